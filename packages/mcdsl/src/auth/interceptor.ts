import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type Authenticator, type Identity, identityKey } from "./identity.js";
import { type AuthPolicy, accessFor, procedureName } from "./policy.js";

export interface AuthOptions {
  authenticator: Authenticator;
  policy?: AuthPolicy;
}

function unauthenticated(message: string): ConnectError {
  // www-authenticate tells REST clients which scheme to use; Connect sends it as a response header.
  return new ConnectError(message, Code.Unauthenticated, { "www-authenticate": 'Bearer realm="mcp"' });
}

/** The token of an `authorization: Bearer <token>` header; undefined when there is no header. */
export function bearerToken(header: Headers): string | undefined {
  const value = header.get("authorization");
  if (value === null) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(value);
  if (!match) throw unauthenticated("authorization header must be 'Bearer <token>'");
  return match[1];
}

function lacksRoleMessage(identity: Identity, roles: string[], procedure: string): string {
  const wanted =
    roles.length === 1 ? `role '${roles[0]}'` : `any of roles ${roles.map((r) => `'${r}'`).join(", ")}`;
  return `identity '${identity.name}' lacks ${wanted} required by ${procedure}`;
}

/**
 * Resolves `authorization: Bearer …` to an identity, checks the procedure's required roles and puts the
 * identity in the handler context (read it with `getIdentity(ctx)`).
 */
export function createAuthInterceptor(options: AuthOptions): Interceptor {
  const policy = options.policy ?? {};
  return (next) => async (req) => {
    const access = accessFor(req.method, policy);
    const token = access.public ? safeBearerToken(req.header) : bearerToken(req.header);
    if (token === undefined) {
      if (access.public) return next(req);
      throw unauthenticated("missing bearer token");
    }
    let identity: Identity | undefined;
    try {
      identity = await options.authenticator.authenticate(token);
    } catch (err) {
      // A public call still works while the authenticator is down, just anonymously.
      if (access.public) return next(req);
      throw ConnectError.from(err, Code.Unavailable);
    }
    if (identity === undefined) {
      if (access.public) return next(req);
      throw unauthenticated("unknown or expired token");
    }
    if (!access.public && access.roles.length > 0 && !access.roles.some((r) => identity.roles.includes(r))) {
      throw new ConnectError(
        lacksRoleMessage(identity, access.roles, procedureName(req.method)),
        Code.PermissionDenied,
      );
    }
    req.contextValues.set(identityKey, identity);
    return next(req);
  };
}

function safeBearerToken(header: Headers): string | undefined {
  try {
    return bearerToken(header);
  } catch {
    return undefined;
  }
}
