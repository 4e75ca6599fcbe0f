// The optional alert_command: run with the alert in its environment (MCP_ALERT_KIND, _SERVICE,
// _COMPONENT, _MESSAGE), never through a shell, with a time limit. Its failure is logged only.
import { spawn } from "node:child_process";
import type { Logger } from "@mcp/mcdsl/log";

export interface Alert {
  kind: "died" | "flapping" | "drift";
  service: string;
  component: string;
  message: string;
}

const TIMEOUT_MS = 10_000;

export function runAlert(command: string[], alert: Alert, logger: Logger): Promise<void> {
  const [binary, ...args] = command;
  if (!binary) return Promise.resolve();
  return new Promise((resolve) => {
    const child = spawn(binary, args, {
      stdio: "ignore",
      env: {
        ...process.env,
        MCP_ALERT_KIND: alert.kind,
        MCP_ALERT_SERVICE: alert.service,
        MCP_ALERT_COMPONENT: alert.component,
        MCP_ALERT_MESSAGE: alert.message,
      },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      logger.warn({ err: err.message, command: binary }, "alert_command could not run");
      resolve();
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) logger.warn({ code, signal, command: binary }, "alert_command failed");
      resolve();
    });
  });
}
