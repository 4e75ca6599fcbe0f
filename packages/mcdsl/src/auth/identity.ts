import { type ContextValues, createContextKey } from "@connectrpc/connect";

/** Who made a call: a name for logs and policy messages, and the roles that policy checks. */
export interface Identity {
  name: string;
  roles: string[];
}

/**
 * Resolves a bearer token to an identity. `undefined` means the token is unknown or expired; an
 * authenticator that cannot decide (its backend is down) throws a ConnectError with Code.Unavailable.
 */
export interface Authenticator {
  authenticate(token: string): Promise<Identity | undefined>;
}

/** The context key under which the auth interceptor stores the caller's identity. */
export const identityKey = createContextKey<Identity | undefined>(undefined, { description: "identity" });

/** The caller's identity inside a handler (`getIdentity(ctx)`), or undefined for a public call. */
export function getIdentity(ctx: { values: ContextValues } | ContextValues): Identity | undefined {
  const values = "values" in ctx ? ctx.values : ctx;
  return values.get(identityKey);
}
