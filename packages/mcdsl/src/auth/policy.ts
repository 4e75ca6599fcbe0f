import { type DescMethod, getOption } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { http } from "@mcp/proto/google/api/annotations_pb.js";

/**
 * Who may call what. Procedures are named "package.Service/Method", e.g.
 * "mcns.v1.RecordService/CreateRecord". A caller needs at least one of the listed roles; an empty list
 * means any authenticated identity.
 */
export interface AuthPolicy {
  /** Required roles per procedure. */
  roles?: Record<string, string[]>;
  /** Read-only procedures callable without a token. Mutating procedures can never be public. */
  public?: string[];
  /** Roles required by mutating procedures not listed in `roles`; default ["admin"]. */
  mutatingDefault?: string[];
  /** Roles required by read-only procedures not listed in `roles`; default [] (any identity). */
  readDefault?: string[];
}

export type Access = { public: true } | { public: false; roles: string[] };

/** "package.Service/Method", the name policies and error messages use. */
export function procedureName(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/**
 * A procedure is read-only when its proto says so (`option idempotency_level = NO_SIDE_EFFECTS`) or
 * its REST mapping is a GET. Everything else counts as mutating and needs a role.
 */
export function isReadOnly(method: DescMethod): boolean {
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return true;
  return getOption(method, http).pattern.case === "get";
}

export function accessFor(method: DescMethod, policy: AuthPolicy): Access {
  const name = procedureName(method);
  if (policy.public?.includes(name)) return { public: true };
  const listed = policy.roles?.[name];
  if (listed) return { public: false, roles: listed };
  return isReadOnly(method)
    ? { public: false, roles: policy.readDefault ?? [] }
    : { public: false, roles: policy.mutatingDefault ?? ["admin"] };
}

/**
 * Checks a policy against the procedures a server actually serves, so a typo in a procedure name fails
 * at start-up instead of silently leaving a procedure on the default.
 */
export function validatePolicy(policy: AuthPolicy, methods: DescMethod[]): void {
  const byName = new Map(methods.map((m) => [procedureName(m), m]));
  const known = () => [...byName.keys()].join(", ");
  for (const name of [...Object.keys(policy.roles ?? {}), ...(policy.public ?? [])]) {
    if (!byName.has(name))
      throw new Error(`auth policy names unknown procedure "${name}" (served: ${known()})`);
  }
  for (const name of policy.public ?? []) {
    if (!isReadOnly(byName.get(name)!)) {
      throw new Error(
        `auth policy makes "${name}" public, but it is mutating (not a GET or NO_SIDE_EFFECTS); mutating procedures always need a token`,
      );
    }
  }
}
