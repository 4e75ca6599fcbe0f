import { timestampDate } from "@bufbuild/protobuf/wkt";
import { StepStatus } from "@mcp/proto/mcp/agent/v1/deploy_pb.js";
import { type DeployResponse, DeployResponseSchema } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import ora, { type Ora } from "ora";
import { messageJson } from "../output/json.js";
import { statusName, stepName } from "./steps.js";

/** Shows a deploy's progress messages as they arrive. */
export interface ProgressView {
  step(message: DeployResponse): void;
  /** The stream ended (with or without an error). */
  end(): void;
}

/** A line per step: time since the deploy began, time the step took, step, outcome, message. */
export function progressLine(message: DeployResponse, sinceStartMs: number, stepMs: number): string {
  const where = message.component ? ` [${message.component}]` : "";
  return (
    `${seconds(sinceStartMs).padStart(7)} ${`+${seconds(stepMs)}`.padStart(7)}  ` +
    `${stepName(message.step).padEnd(17)} ${statusName(message.status).padEnd(7)}  ${message.message}${where}`
  );
}

const SYMBOLS = new Map<StepStatus, string>([
  [StepStatus.FAILED, "✖"],
  [StepStatus.UNDONE, "↺"],
  [StepStatus.SKIPPED, "–"],
]);

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/**
 * On a terminal: a spinner that counts the time of the step under way, each finished step kept as
 * a line above it (ora). Otherwise plain lines, one per message, for logs and pipes. With --json:
 * one JSON object per message (newline-delimited), for scripts.
 */
export function createProgressView(service: string, options: { json: boolean }): ProgressView {
  const started = Date.now();
  let last = started;
  if (options.json) {
    return {
      step: (m) => process.stdout.write(`${JSON.stringify(messageJson(DeployResponseSchema, m))}\n`),
      end: () => {},
    };
  }
  const line = (m: DeployResponse) => {
    const at = m.time ? timestampDate(m.time).getTime() : Date.now();
    const text = progressLine(m, at - started, at - last);
    last = at;
    return text;
  };
  if (!process.stdout.isTTY) {
    return { step: (m) => process.stdout.write(`${line(m)}\n`), end: () => {} };
  }
  const spinner: Ora = ora({ stream: process.stdout, text: `deploying ${service}` }).start();
  const timer = setInterval(() => {
    spinner.text = `deploying ${service}: ${seconds(Date.now() - last)} in this step`;
  }, 100);
  return {
    step(m) {
      const symbol = SYMBOLS.get(m.status) ?? "✔";
      spinner.stopAndPersist({ symbol, text: line(m) });
      spinner.start();
    },
    end() {
      clearInterval(timer);
      spinner.stop();
    },
  };
}
