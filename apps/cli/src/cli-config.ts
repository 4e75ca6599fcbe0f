import { homedir } from "node:os";
import { join } from "node:path";
import { defaultPaths, loadConfig, section, z } from "@mcp/mcdsl/config";

/** A service's API address: Connect clients take a base URL. */
const address = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, {
    message: "expected an http:// or https:// URL such as https://rift:9444",
  })
  .optional();

/** The NATS server `mcp events` reads (nats:// or tls://). */
const natsAddress = z
  .string()
  .regex(/^(nats|tls):\/\/\S+$/, { message: "expected a nats:// or tls:// URL such as nats://rift:4222" })
  .optional();

/** `~/.config/mcp/mcp.toml`: where the CLI finds the platform. Every key is optional. */
export const cliConfigSchema = z.object({
  /** Where `mcp login` stores the token and every command reads it (default `~/.config/mcp/token`). */
  token_file: z.string().optional(),
  /** A CA certificate (PEM) to trust for https addresses, e.g. the platform's root CA. */
  ca_file: z.string().optional(),
  /** The node commands act on when neither --node nor the service definition names one. */
  node: z.string().optional(),
  /** Where the service definitions live (default `~/.config/mcp/services`). */
  services_dir: z.string().optional(),
  agent: section({ address }),
  mcns: section({ address }),
  certbroker: section({ address }),
  mcproxy: section({ address }),
  nats: section({ address: natsAddress }),
  /** Other nodes' agents, for `--node` and definitions with `node = "…"`. */
  nodes: z.array(z.object({ name: z.string(), agent: address.unwrap() })).default([]),
});

export type CliConfig = z.output<typeof cliConfigSchema>;

/** The CLI's own directory: per-user even for root, since the token and definitions are the operator's. */
export function cliConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return defaultPaths("mcp", { user: true, env }).configDir;
}

/**
 * Loads the CLI config: the file named by --config (which must exist), or
 * `~/.config/mcp/mcp.toml` when it exists; `$MCP_*` variables override keys
 * (`MCP_AGENT_ADDRESS`). Paths may start with `~/`.
 */
export function loadCliConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): CliConfig {
  // Without --config, loadConfig reads <user config dir>/mcp.toml if it exists.
  const where = path === undefined ? { paths: { user: true, env } } : { path };
  const config = loadConfig({ app: "mcp", schema: cliConfigSchema, env, ...where });
  const home = env.HOME ?? homedir();
  const expand = (value: string | undefined) => (value === undefined ? undefined : expandHome(value, home));
  return {
    ...config,
    token_file: expand(config.token_file),
    ca_file: expand(config.ca_file),
    services_dir: expand(config.services_dir),
  };
}

/** `~/x` → `<home>/x`, as a shell would. */
export function expandHome(path: string, home: string): string {
  return path === "~" || path.startsWith("~/") ? join(home, path.slice(1)) : path;
}
