import { existsSync, readFileSync } from "node:fs";
import type { CliConfig } from "../cli-config.js";
import { CliError } from "../errors.js";
import type { DevEndpoints } from "./dev-endpoints.js";

/** The platform's APIs the CLI calls. */
export type ApiName = "agent" | "mcns" | "certbroker" | "mcproxy";

/** Each app's default listen address (its config.example.toml), for a platform on this machine. */
export const DEFAULT_ADDRESSES: Record<ApiName | "nats", string> = {
  agent: "http://127.0.0.1:9444",
  mcns: "http://127.0.0.1:8053",
  certbroker: "http://127.0.0.1:9443",
  mcproxy: "http://127.0.0.1:9093",
  nats: "nats://127.0.0.1:4222",
};

/** Where an API is, and how to reach it. */
export interface Target {
  /** For messages: "mcns", "agent of node rift". */
  label: string;
  address: string;
  caFile?: string;
  token?: string;
}

/**
 * Where the platform is. Each value comes from the first of: the config file (with its `$MCP_*`
 * overrides), the local platform's `.mcp-dev/endpoints.json`, the apps' default addresses.
 */
export class Endpoints {
  constructor(
    private readonly config: CliConfig,
    private readonly dev: DevEndpoints | undefined,
    /** The token file the user chose (--token-file or token_file), and the per-user default. */
    private readonly tokenFiles: { chosen?: string; userDefault: string },
  ) {}

  address(api: ApiName | "nats"): string {
    return this.config[api].address ?? this.dev?.[api] ?? DEFAULT_ADDRESSES[api];
  }

  caFile(): string | undefined {
    return this.config.ca_file ?? this.dev?.ca_file;
  }

  /**
   * The bearer token: from the chosen token file, else `~/.config/mcp/token` when it exists
   * (`mcp login`), else the local platform's admin token; trimmed. Undefined when there is none:
   * reads may not need one, and a mutation then fails with the server's Unauthenticated.
   */
  token(): string | undefined {
    const file =
      this.tokenFiles.chosen ??
      (existsSync(this.tokenFiles.userDefault) ? this.tokenFiles.userDefault : this.dev?.admin_token_file);
    if (file === undefined) return undefined;
    try {
      const token = readFileSync(file, "utf8").trim();
      return token === "" ? undefined : token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && this.tokenFiles.chosen === undefined) {
        return undefined;
      }
      throw new CliError(`cannot read the token file ${file}: ${(error as Error).message}`);
    }
  }

  target(api: ApiName): Target {
    return { label: api, address: this.address(api), caFile: this.caFile(), token: this.token() };
  }

  /**
   * The agent of a node: a `[[nodes]]` entry by name, else `[agent] address` when the node is the
   * config's default node or no nodes are listed (one node: its agent refuses a definition meant
   * for another). An unknown node among listed ones is an error naming the known ones.
   */
  agent(node: string | undefined): Target {
    const base = this.target("agent");
    if (node === undefined) return base;
    const entry = this.config.nodes.find((n) => n.name === node);
    if (entry) return { ...base, label: `agent of node ${node}`, address: entry.agent };
    if (this.config.nodes.length === 0 || node === this.config.node) {
      return { ...base, label: `agent of node ${node}` };
    }
    const known = [this.config.node, ...this.config.nodes.map((n) => n.name)].filter(Boolean);
    throw new CliError(
      `unknown node "${node}" (known: ${known.join(", ")}); add a [[nodes]] entry to the config`,
    );
  }
}
