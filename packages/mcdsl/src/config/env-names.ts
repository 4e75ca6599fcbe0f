/**
 * The environment-variable spelling of names: upper case, every non-alphanumeric character an
 * underscore, parts joined by underscores. `envName("mcns", "dns", "port")` → `MCNS_DNS_PORT`,
 * `envName("PORT", "admin-api")` → `PORT_ADMIN_API`. Config overrides and the `$PORT_<ROUTE>`
 * variables of service definitions both use it, so the two can never disagree.
 */
export function envName(...parts: string[]): string {
  return parts.map((part) => part.toUpperCase().replace(/[^A-Z0-9]/g, "_")).join("_");
}
