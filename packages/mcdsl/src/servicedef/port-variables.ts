import { envName } from "../config/env-names.js";

/** The variable a route's leased port arrives in: `PORT` for a lone route, else `PORT_<NAME>`. */
export function portVariable(routeName: string, routeCount: number): string {
  return routeCount === 1 ? "PORT" : envName("PORT", routeName);
}

/** Variables the agent sets for L4 routes: the mounted certificate, key and platform CA. */
export const TLS_VARIABLES = ["TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE"] as const;

/** `$PORT`, `${PORT_WEB}` … references in a command argument. */
export function portReferences(argument: string): string[] {
  return [...argument.matchAll(/\$\{?(PORT(?:_[A-Za-z0-9_]*)?)\}?/g)].map((match) => match[1] ?? "");
}
