/** An error the CLI reports as `mcp: <message>` with its exit code (1; usage errors 2). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The command line itself is wrong: exit code 2, as for unknown commands and options. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}
