import { join } from "node:path";
import type { Command } from "commander";
import { type CliConfig, cliConfigDir, loadCliConfig } from "./cli-config.js";

/** The global options every command accepts. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  node?: string;
  tokenFile?: string;
}

/** What a command needs besides its own arguments: global options, the config, output. */
export class CliContext {
  private loaded?: CliConfig;

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
    return this.options.tokenFile ?? this.config.token_file ?? join(cliConfigDir(this.env), "token");
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
