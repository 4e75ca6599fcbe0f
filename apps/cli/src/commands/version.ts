import type { Command } from "commander";
import { contextOf } from "../context.js";
import { cliVersion } from "../version.js";

/** `mcp version`: the CLI's and Node's versions (for bug reports and compatibility checks). */
export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print the versions of mcp and Node")
    .action((_options, command: Command) => {
      const info = {
        mcp: cliVersion(),
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
      };
      contextOf(command).print(`mcp ${info.mcp}\nnode ${info.node} (${info.platform})`, info);
    });
}
