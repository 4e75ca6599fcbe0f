// The zone check behind every write (DESIGN.md section 6), after mcdsl's role policy let the call in.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { getIdentity, type Identity } from "@mcp/mcdsl/auth";
import type { Zone } from "../store/record.js";

/**
 * Admins write anywhere; any other writer only in zones whose `writers` list its name. The records
 * left in a zone the configuration no longer has (given without `writers`) are the admins' alone.
 */
export function authorize(
  ctx: HandlerContext,
  zone: Pick<Zone, "name"> & Partial<Pick<Zone, "writers">>,
): void {
  authorizeIdentity(getIdentity(ctx), zone);
}

/** The same check for an identity carried elsewhere (an import's worker thread). */
export function authorizeIdentity(
  who: Identity | undefined,
  zone: Pick<Zone, "name"> & Partial<Pick<Zone, "writers">>,
): void {
  if (!who) throw new ConnectError("a bearer token is required to change records", Code.Unauthenticated);
  if (who.roles.includes("admin") || zone.writers?.includes(who.name)) return;
  const why = zone.writers ? "not in its writers" : "not served here any more: admins only";
  throw new ConnectError(
    `identity "${who.name}" may not change records in zone "${zone.name}" (${why})`,
    Code.PermissionDenied,
  );
}
