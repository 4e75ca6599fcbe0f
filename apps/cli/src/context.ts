import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { Command } from "commander";
import { type CliConfig, cliConfigDir, loadCliConfig } from "./cli-config.js";
import { connectClient } from "./clients/connect.js";
import { findDevEndpoints } from "./clients/dev-endpoints.js";
import { type ApiName, Endpoints } from "./clients/endpoints.js";

/** The global options every command accepts. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  node?: string;
  tokenFile?: string;
}

/** What a command needs besides its own arguments: global options, the config, output, clients. */
export class CliContext {
  private loaded?: CliConfig;
  private found?: Endpoints;

  constructor(
    readonly options: GlobalOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The config file, loaded on first use: commands that do not need it work with a broken one. */
  get config(): CliConfig {
    this.loaded ??= loadCliConfig(this.options.config, this.env);
    return this.loaded;
  }

  /** --token-file, else `token_file` in the config, else `~/.config/mcp/token`. */
  tokenFile(): string {
    return this.options.tokenFile ?? this.config.token_file ?? this.defaultTokenFile();
  }

  /** `services_dir` in the config, else `~/.config/mcp/services`. */
  servicesDir(): string {
    return this.config.services_dir ?? join(cliConfigDir(this.env), "services");
  }

  private defaultTokenFile(): string {
    return join(cliConfigDir(this.env), "token");
  }

  /** Where the platform's APIs are: config, then `.mcp-dev/endpoints.json` above the cwd, then defaults. */
  get endpoints(): Endpoints {
    this.found ??= new Endpoints(this.config, findDevEndpoints(process.cwd()), {
      chosen: this.options.tokenFile ?? this.config.token_file,
      userDefault: this.defaultTokenFile(),
    });
    return this.found;
  }

  /**
   * A client of one of the platform's APIs (the agent: of --node, else the default node);
   * `streaming` for client streams (PushFile), which need HTTP/2.
   */
  client<S extends DescService>(
    service: S,
    api: ApiName,
    node = this.options.node,
    options: { streaming?: boolean } = {},
  ): Client<S> {
    const target = api === "agent" ? this.endpoints.agent(node) : this.endpoints.target(api);
    return connectClient(service, target, options);
  }

  /** Prints `text` for people, or `json` (pretty, one document) with --json. */
  print(text: string, json: unknown): void {
    process.stdout.write(this.options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  }
}

/** The context of the command being run (its options merged with the program's). */
export function contextOf(command: Command): CliContext {
  return new CliContext(command.optsWithGlobals<GlobalOptions>());
}
