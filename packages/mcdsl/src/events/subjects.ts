import { eventFamilies } from "./catalog.js";
import { EventsError } from "./errors.js";

// A token of an event type. No dots (they split subjects), no upper case, no NATS wildcards.
const TOKEN = /^[a-z0-9_-]+$/;
// Service and component names, which may appear as tokens (DESIGN.md section 3).
const NAME = /^[a-z0-9-]+$/;
const HOSTNAME_HINT = "hostnames and record names go in the envelope's subject, not in the type";

/**
 * Checks an event type (the NATS subject it is published on): `mcp.` then tokens of [a-z0-9_-];
 * a type in a known family must have that family's shape, e.g. `mcp.deploy.<service>.<step>`.
 */
export function validateEventType(type: string): void {
  const bad = (why: string) => new EventsError("INVALID_TYPE", `invalid event type "${type}": ${why}`);
  if (typeof type !== "string" || !type.startsWith("mcp.")) throw bad('it must start with "mcp."');
  const tokens = type.split(".");
  if (tokens.length < 2) throw bad("it needs at least one token after mcp.");
  const badToken = tokens.find((t) => !TOKEN.test(t));
  if (badToken !== undefined) {
    throw bad(`token "${badToken}" is not [a-z0-9_-]+ (${badToken === "" ? "empty token" : HOSTNAME_HINT})`);
  }

  const family = eventFamilies.find((f) => type.startsWith(f.prefix));
  if (!family) return; // an unknown family: free to grow
  const rest = type.slice(family.prefix.length).split(".");
  const names = rest.slice(0, family.names.length);
  const fact = rest.slice(family.names.length).join(".");
  const shape = `${family.prefix}${family.names.map((n) => `<${n}>.`).join("")}{${family.facts.join(",")}}`;
  if (names.length < family.names.length || !family.facts.includes(fact)) {
    throw bad(`expected ${shape}; ${HOSTNAME_HINT}`);
  }
  names.forEach((name, i) => {
    if (!NAME.test(name)) throw bad(`${family.names[i]} "${name}" is not [a-z0-9-]+`);
  });
}

/**
 * Checks a subscription filter: a subject under `mcp.` whose tokens are [a-z0-9_-]+ or `*`, with an
 * optional final `>` (e.g. "mcp.>", "mcp.deploy.*.failed", "mcp.cert.renewed").
 */
export function validateFilter(filter: string): void {
  const bad = (why: string) => new EventsError("INVALID_FILTER", `invalid event filter "${filter}": ${why}`);
  if (typeof filter !== "string" || !filter.startsWith("mcp.")) throw bad('it must start with "mcp."');
  const tokens = filter.split(".");
  tokens.forEach((t, i) => {
    if (t === ">" && i !== tokens.length - 1) throw bad('">" may only be the last token');
    if (t !== ">" && t !== "*" && !TOKEN.test(t)) throw bad(`token "${t}" is not [a-z0-9_-]+, "*" or ">"`);
  });
  if (tokens.length < 2) throw bad("it needs at least one token after mcp.");
}
