import { CONTROL } from "./text.js";

/**
 * Syntax of the names a service definition uses. Each check returns undefined when the value is
 * fine, or the reason it is not, ending with the value (`…, got "Web_1"`).
 */

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Service, component, route and node names: one DNS label, since they become host and subject names. */
export function checkLabel(value: string): string | undefined {
  if (LABEL.test(value) && value.length <= 63) return undefined;
  return `expected a name of a-z, 0-9 and "-" (not first or last), at most 63 characters, got ${JSON.stringify(value)}`;
}

/** A public hostname: lower case, two or more labels, no wildcard, not an IP address. */
export function checkHostname(value: string): string | undefined {
  const got = `got ${JSON.stringify(value)}`;
  if (value.startsWith("*.")) return `wildcard hostnames are not allowed (one certificate per name), ${got}`;
  if (value !== value.toLowerCase()) return `hostnames are written in lower case, ${got}`;
  const labels = value.split(".");
  const valid =
    value.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => LABEL.test(label) && label.length <= 63) &&
    !/^\d+$/.test(labels[labels.length - 1] ?? "");
  return valid ? undefined : `expected a hostname such as "hello.example.org", ${got}`;
}

/** Environment variable names as shells accept them. */
export function checkEnvName(value: string): string | undefined {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return undefined;
  return `expected an environment variable name (letters, digits, "_", not starting with a digit), got ${JSON.stringify(value)}`;
}

/** podman's --user: a user and optional group, each a name or a number. */
export function checkUser(value: string): string | undefined {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(value)) return undefined;
  return `expected user or user:group such as "0:0" or "www-data", got ${JSON.stringify(value)}`;
}

/** podman's --restart policies. */
export function checkRestart(value: string): string | undefined {
  if (/^(no|always|unless-stopped|on-failure(:[1-9]\d*)?)$/.test(value)) return undefined;
  return `expected one of "no", "always", "unless-stopped", "on-failure" or "on-failure:N", got ${JSON.stringify(value)}`;
}

/** podman network names. */
export function checkNetwork(value: string): string | undefined {
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) return undefined;
  return `expected a network name such as "mcpnet", got ${JSON.stringify(value)}`;
}

/** The service's working path: relative to the agent's service root, never leaving it, written plainly. */
export function checkRelativePath(value: string): string | undefined {
  const segments = value.split("/");
  const plain = segments.every((segment) => segment !== "" && segment !== "." && segment !== "..");
  if (plain && !CONTROL.test(value)) return undefined;
  return `expected a relative path inside the service root (no leading "/", no "." or "..", no "//", no control characters), got ${JSON.stringify(value)}`;
}
