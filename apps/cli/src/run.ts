import { ConnectError } from "@connectrpc/connect";
import { ConfigError } from "@mcp/mcdsl/config";
import { CommanderError } from "commander";
import { describeConnectError } from "./clients/connect.js";
import { CliError } from "./errors.js";
import { createProgram } from "./program.js";

/** Runs the command line and returns the exit code: 0, 1 for errors, 2 for usage errors. */
export async function run(args: string[]): Promise<number> {
  try {
    await createProgram().parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
    // No command given: commander has printed the help to stderr.
    if (error.code === "commander.help") return 2;
    printError(error.message.replace(/^error: /, "").replace(/\n/g, " "));
    return 2;
  }
  if (error instanceof ConnectError) {
    printError(describeConnectError(error));
    return 1;
  }
  if (error instanceof ConfigError || error instanceof CliError) {
    printError(error.message);
    return error instanceof CliError ? error.exitCode : 1;
  }
  // A bug rather than bad input: the stack helps whoever reports it.
  printError(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 1;
}

/** `mcp: ` before every line, so multi-line errors (one line per config issue) stay greppable. */
function printError(message: string): void {
  const lines = message.split("\n").map((line) => `mcp: ${line}`);
  process.stderr.write(`${lines.join("\n")}\n`);
}
