import { Command } from "commander";
import { registerAdopt } from "./commands/adopt.js";
import { registerCert } from "./commands/cert.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerDns } from "./commands/dns.js";
import { registerEvents } from "./commands/events.js";
import { registerFiles } from "./commands/files.js";
import { registerLifecycle } from "./commands/lifecycle.js";
import { registerLogin } from "./commands/login.js";
import { registerRoute } from "./commands/route.js";
import { registerService } from "./commands/service.js";
import { registerStatus } from "./commands/status.js";
import { registerSync } from "./commands/sync.js";
import { registerToken } from "./commands/token.js";
import { registerVersion } from "./commands/version.js";
import { cliVersion } from "./version.js";

/** The `mcp` command line: global options and every command (one file each under commands/). */
export function createProgram(): Command {
  const program = new Command("mcp")
    .description("Deploy and run services on the Metacircular platform.")
    .option("--config <file>", "config file (default: ~/.config/mcp/mcp.toml)")
    .option("--json", "print machine-readable JSON")
    .option("--node <name>", "the node to act on (default: the service's node, else `node` in the config)")
    .option(
      "--token-file <file>",
      "the API token file (default: token_file in the config, else ~/.config/mcp/token)",
    )
    .version(cliVersion(), "-V, --version", "print the version of mcp")
    .helpCommand(true)
    // Errors are printed by run() as `mcp: <message>` with exit code 2; commander only throws.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true);

  // Commands are created with program.command() so they inherit the settings above.
  registerAdopt(program);
  registerCert(program);
  registerDeploy(program);
  registerDns(program);
  registerEvents(program);
  registerFiles(program);
  registerLifecycle(program);
  registerLogin(program);
  registerRoute(program);
  registerService(program);
  registerStatus(program);
  registerSync(program);
  registerToken(program);
  registerVersion(program);
  return program;
}
