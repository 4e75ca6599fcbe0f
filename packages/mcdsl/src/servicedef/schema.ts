import * as z from "zod";
import { parseDuration } from "./duration.js";
import { checkImage } from "./image.js";
import {
  checkHostname,
  checkLabel,
  checkNetwork,
  checkRelativePath,
  checkRestart,
  checkUser,
} from "./names.js";
import { parsePortMapping } from "./port-mapping.js";
import { forbiddenCharacter, NUL } from "./text.js";
import { parseVolume } from "./volume.js";

/**
 * The shape of a service-definition file, field by field. Rules that look at more than one
 * field (unique names, port conflicts, env and cmd against the routes) live in checks.ts.
 */

/** A string that must pass `check` (which returns the reason when it does not). */
function text(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, context) => {
    const problem = check(value);
    if (problem) context.addIssue({ code: "custom", message: problem });
  });
}

/** A string a parser must accept (parsers return the parsed value, or the reason as a string). */
function parsed(parse: (value: string) => unknown) {
  return text((value) => {
    const result = parse(value);
    return typeof result === "string" ? result : undefined;
  });
}

const duration = parsed(parseDuration);

// Sent as is in the probe's request line: printable ASCII without spaces (escape the rest as %XX).
const httpPath = text((value) =>
  /^\/[\x21-\x7e]*$/.test(value)
    ? undefined
    : `expected an HTTP path starting with "/", got ${JSON.stringify(value)} (printable ASCII without spaces: escape others as %XX)`,
);

/** A command argument: any text but a NUL (arguments are C strings). */
const argument = text((value) => {
  const nul = forbiddenCharacter(value, NUL);
  return nul && `a command argument cannot contain ${nul}, got ${JSON.stringify(value)}`;
});

export const routeSchema = z.object({
  name: text(checkLabel),
  port: z.int().min(1).max(65535),
  mode: z.enum(["l4", "l7"]).default("l7"),
  hostname: text(checkHostname).optional(),
});

export const healthSchema = z.object({
  http: httpPath.optional(),
  tcp: z.literal(true).optional(),
  route: text(checkLabel).optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  deadline: duration.optional(),
});

export const componentSchema = z.object({
  name: text(checkLabel),
  image: text(checkImage),
  volumes: z.array(parsed(parseVolume)).default([]),
  cmd: z.array(argument).default([]),
  // A table or a list of "KEY=VALUE" strings; checks.ts validates it (names, values, clashes).
  env: z.unknown().optional(),
  network: text(checkNetwork).optional(),
  user: text(checkUser).optional(),
  restart: text(checkRestart).optional(),
  ports: z.array(parsed(parsePortMapping)).default([]),
  routes: z.array(routeSchema).default([]),
  health: healthSchema.optional(),
});

export const buildSchema = z.object({
  context: z.string().min(1).optional(),
  containerfile: z.string().min(1).optional(),
  image: text(checkImage).optional(),
  images: z.record(z.string(), z.string()).default({}),
  uses_mcdsl: z.boolean().default(false),
});

export const serviceSchema = z.object({
  name: text(checkLabel),
  node: text(checkLabel).optional(),
  active: z.boolean().default(true),
  path: text(checkRelativePath).optional(),
  build: buildSchema.optional(),
  components: z.array(componentSchema).default([]),
});

export type RawService = z.output<typeof serviceSchema>;
export type RawComponent = z.output<typeof componentSchema>;
