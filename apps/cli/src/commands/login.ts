import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError } from "../errors.js";
import { readSecret } from "../read-secret.js";
import { writeSecretFile } from "../secret-file.js";

/**
 * `mcp login`: stores the API token every other command sends. The token comes from stdin
 * (`mcp login < token.txt`, `pass mcp | mcp login`) or a prompt that does not echo; it is
 * trimmed and written mode 0600, atomically.
 */
export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("store the API token (read from stdin, or typed at a prompt without echo)")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const file = context.tokenFile();
      const token = await readSecret("Token: ");
      if (token === "") throw new CliError("no token given: pipe it on stdin or type it at the prompt");
      if (/\s/.test(token)) throw new CliError("a token cannot contain whitespace");
      writeSecretFile(file, token);
      context.print(`token stored in ${file}`, { token_file: file });
    });
}
