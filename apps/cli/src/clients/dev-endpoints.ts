import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "@mcp/mcdsl/config";
import { CliError } from "../errors.js";

/**
 * `.mcp-dev/endpoints.json`: what the local platform (`make up`, scripts/dev-up.sh) writes so that
 * `mcp` run anywhere inside the repository finds it without a config file. Other keys (the DNS
 * and proxy listeners, the mc-proxy socket) are for scripts and are ignored here.
 */
const endpointsSchema = z.looseObject({
  agent: z.string().optional(),
  mcns: z.string().optional(),
  certbroker: z.string().optional(),
  mcproxy: z.string().optional(),
  nats: z.string().optional(),
  /** The local root CA (PEM), trusted for https addresses. */
  ca_file: z.string().optional(),
  /** A token the local platform minted for its operator. */
  admin_token_file: z.string().optional(),
});

export type DevEndpoints = z.output<typeof endpointsSchema> & { file: string };

export const DEV_ENDPOINTS = join(".mcp-dev", "endpoints.json");

/** The nearest `.mcp-dev/endpoints.json` at or above `start`, read and checked; undefined when none. */
export function findDevEndpoints(start: string): DevEndpoints | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const file = join(dir, DEV_ENDPOINTS);
    if (existsSync(file)) return readDevEndpoints(file);
    if (dirname(dir) === dir) return undefined;
  }
}

function readDevEndpoints(file: string): DevEndpoints {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CliError(`${file}: cannot read the local platform's endpoints: ${(error as Error).message}`);
  }
  const parsed = endpointsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${file}: ${issue?.path.join(".") || "(top)"}: ${issue?.message}`);
  }
  const base = dirname(dirname(file));
  const absolute = (path: string | undefined) =>
    path === undefined || isAbsolute(path) ? path : join(base, path);
  return {
    ...parsed.data,
    ca_file: absolute(parsed.data.ca_file),
    admin_token_file: absolute(parsed.data.admin_token_file),
    file,
  };
}
