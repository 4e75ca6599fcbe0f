// `$PORT` / `$PORT_<ROUTE>` in a container's command. Podman passes cmd to the container as is
// (no shell), so the agent expands these itself; other `$VARS` are left for the container.
export class PortVariableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PortVariableError";
  }
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Replaces `$PORT…` and `${PORT…}` (shell's longest-name rule) with the leased ports. A port
 * variable the component does not get is an error (mcdsl's definition checks refuse it first).
 */
export function expandPortVariables(cmd: string[], ports: Record<string, number>): string[] {
  return cmd.map((arg) =>
    arg.replace(REFERENCE, (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? "";
      if (name !== "PORT" && !name.startsWith("PORT_")) return whole;
      const port = ports[name];
      if (port === undefined) {
        const known = Object.keys(ports).join(", ") || "none";
        throw new PortVariableError(
          `cmd refers to $${name}, which this component does not get (it has: ${known})`,
        );
      }
      return String(port);
    }),
  );
}
