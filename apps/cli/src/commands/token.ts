import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError } from "../errors.js";

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * `mcp token create`: mints an API token for a service's static authenticator. Only the token's
 * SHA-256 goes into the tokens file (created mode 0600); the token itself is printed once, here,
 * and never stored, so hand it to its user (`mcp login`) right away.
 */
export function registerToken(program: Command): void {
  const token = program.command("token").description("manage API tokens of the static authenticator");
  token
    .command("create")
    .description("mint a token, append its hash to tokens files and print the token once")
    .requiredOption("--name <name>", "who the token is for (shown in logs and errors)")
    .option("--role <role...>", "a role the token carries (repeatable)", [])
    .requiredOption(
      "--file <tokens.toml...>",
      "the services' tokens files ([auth] tokens_file in their configs); one token for all of them",
    )
    .action((options: { name: string; role: string[]; file: string[] }, command: Command) => {
      if (!NAME.test(options.name)) {
        throw new CliError(`--name "${options.name}" must be [a-z0-9._-], starting with a letter or digit`);
      }
      const bad = options.role.find((role) => !NAME.test(role));
      if (bad !== undefined) throw new CliError(`--role "${bad}" must be [a-z0-9._-]`);
      const minted = mintToken(options.name, options.role);
      for (const file of options.file) appendTokenEntry(file, minted.entry);
      contextOf(command).print(minted.token, {
        name: options.name,
        roles: options.role,
        files: options.file,
        token: minted.token,
      });
    });
}
