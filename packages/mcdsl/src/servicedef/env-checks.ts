import type { KeyPath } from "../config/errors.js";
import { showValue } from "../config/schema-walk.js";
import type { CheckContext } from "./checks.js";
import { checkEnvName } from "./names.js";
import { portReferences, portVariable, TLS_VARIABLES } from "./port-variables.js";
import { list, str, type Table, table } from "./raw.js";
import { forbiddenCharacter, LINE_BREAK_OR_NUL } from "./text.js";

/**
 * The longest `KEY=VALUE` podman reads from an env-file (its line scanner's limit; a longer one
 * fails the container's creation): put larger values in a file on a volume.
 */
export const MAX_ENV_ENTRY_BYTES = 65_535;

/**
 * A component's environment, written either as a table (`env = { GREETING = "hi" }`, the
 * canonical form, what export writes) or as podman-style `"KEY=VALUE"` strings. Numbers and
 * booleans in the table are taken as their text. Returns the entries with the key path of each.
 */
export function environmentEntries(env: unknown): EnvEntry[] {
  if (Array.isArray(env)) {
    return env.map((entry, index) => {
      const equals = typeof entry === "string" ? entry.indexOf("=") : -1;
      if (typeof entry !== "string" || equals < 0)
        return { name: "", value: entry, at: [index], malformed: true };
      return { name: entry.slice(0, equals), value: entry.slice(equals + 1), at: [index] };
    });
  }
  const tableForm = table(env);
  if (!tableForm) return [];
  return Object.entries(tableForm).map(([name, value]) => ({ name, value, at: [name] }));
}

interface EnvEntry {
  name: string;
  value: unknown;
  /** The entry's key path under `env`: its name (table form) or index (list form). */
  at: KeyPath;
  /** A list entry that is not a "KEY=VALUE" string. */
  malformed?: boolean;
}

/**
 * The environment and the command reach the container's first process through execve, which
 * takes about 2 MiB of both together on a default Linux (a quarter of the 8 MiB stack): more, and
 * the container exits at once ("argument list too long") after its ports and certificate were
 * obtained. 1 MiB leaves room for what the image and the agent add.
 */
export const MAX_EXEC_BYTES = 1024 * 1024;

function checkExecSize(component: Table, base: KeyPath, context: CheckContext): void {
  const env = environmentEntries(component.env).reduce(
    // Values of other types are reported by their entries' own check.
    (sum, { name, value }) =>
      ["string", "number", "boolean"].includes(typeof value)
        ? sum + Buffer.byteLength(`${name}=${String(value)}`) + 1
        : sum,
    0,
  );
  const cmd = list(component.cmd).reduce<number>(
    (sum, argument) => sum + (typeof argument === "string" ? Buffer.byteLength(argument) + 1 : 0),
    0,
  );
  if (env + cmd > MAX_EXEC_BYTES) {
    context.report(
      [...base, component.env !== undefined ? "env" : "cmd"],
      `env and cmd are ${env + cmd} bytes together; a container's first process gets at most ${MAX_EXEC_BYTES} (put large values in a file on a volume)`,
    );
  }
}

/** What is wrong with one entry by itself: its name, its value's type, characters or size. */
function envProblem(name: string, value: unknown): string | undefined {
  const nameProblem = checkEnvName(name);
  if (nameProblem) return nameProblem;
  if (!["string", "number", "boolean"].includes(typeof value)) {
    return `expected a string, number or boolean, got ${showValue(value)}`;
  }
  const text = String(value);
  const character = forbiddenCharacter(text, LINE_BREAK_OR_NUL);
  if (character) {
    return `the value contains ${character}: podman's env-file holds one line per variable (put such a value in a file on a volume)`;
  }
  const bytes = Buffer.byteLength(`${name}=${text}`);
  if (bytes > MAX_ENV_ENTRY_BYTES) {
    return `${name}=… is ${bytes} bytes; podman reads at most ${MAX_ENV_ENTRY_BYTES} per variable (put a larger value in a file on a volume)`;
  }
  return undefined;
}

/** The environment as the agent passes it to podman. */
export function environmentOf(env: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of environmentEntries(env)) out[name] = String(value);
  return out;
}

/**
 * The env syntax, plus what the agent owns: `$PORT`/`$PORT_<ROUTE>` of the component's routes,
 * and the TLS file variables when it has an L4 route. And `cmd` may refer only to port variables
 * the component will have.
 */
export function checkComponentEnvironment(component: Table, base: KeyPath, context: CheckContext): void {
  const envPath = [...base, "env"];
  const env = component.env;
  if (env !== undefined && !Array.isArray(env) && !table(env)) {
    context.report(
      envPath,
      `expected a table such as { GREETING = "hi" } or a list of "KEY=VALUE" strings, got ${showValue(env)}`,
    );
  }
  const routes = list(component.routes).map((route) => table(route));
  const owned = new Map<string, string>();
  for (const route of routes) {
    const name = str(route?.name);
    if (name !== undefined)
      owned.set(portVariable(name, routes.length), `the leased port of route "${name}"`);
  }
  if (routes.some((route) => route?.mode === "l4")) {
    for (const variable of TLS_VARIABLES) owned.set(variable, "for the component's L4 routes");
  }

  const defined = new Map<string, KeyPath>();
  for (const entry of environmentEntries(env)) {
    const { name, value, at } = entry;
    const path = [...envPath, ...at];
    if (entry.malformed) {
      context.report(path, `expected "KEY=VALUE", got ${showValue(value)}`);
      continue;
    }
    const problem =
      envProblem(name, value) ?? (owned.has(name) && `${name} is set by the agent (${owned.get(name)})`);
    if (problem) context.report(path, problem);
    // Only the list form can say a name twice; one of them would silently win.
    const first = defined.get(name);
    if (first !== undefined) context.report(path, `${name} is set twice (first at env[${first.at(-1)}])`);
    else defined.set(name, path);
  }

  checkExecSize(component, base, context);

  list(component.cmd).forEach((argument, index) => {
    if (typeof argument !== "string") return;
    for (const variable of portReferences(argument)) {
      if (owned.has(variable) || defined.has(variable)) continue;
      const ports = [...owned.keys()].filter((v) => v.startsWith("PORT"));
      const known =
        ports.length > 0
          ? `its port variables are ${ports.map((v) => `$${v}`).join(", ")}`
          : "it has no routes";
      context.report([...base, "cmd", index], `$${variable} is not set for this component: ${known}`);
    }
  });
}
