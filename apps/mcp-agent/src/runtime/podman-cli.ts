// Runs the podman binary: arguments as an array (no shell), stdout collected, a timeout, and
// failures turned into PodmanError values naming what the command was about. The process's
// environment passes through, so CONTAINERS_CONF and friends apply as for an operator's podman.
import { spawn } from "node:child_process";
import { classify, PodmanError, podmanReason } from "./errors.js";

export interface ExecOptions {
  /** What the command is about (container, image, network), for error messages. */
  target: string;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. 1 for `image exists`). */
  okExitCodes?: number[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class PodmanCli {
  readonly binary: string;

  constructor(binary = "podman") {
    this.binary = binary;
  }

  exec(args: string[], options: ExecOptions): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const what = `podman ${args[0] ?? ""}${args[0] === "image" || args[0] === "network" ? ` ${args[1]}` : ""}`;
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new PodmanError("UNAVAILABLE", options.target, `cannot run ${this.binary}: ${e.message}`));
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        const result = {
          exitCode: code ?? -1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        };
        if (timedOut) {
          reject(
            new PodmanError(
              "TIMEOUT",
              options.target,
              `${what} ${options.target}: no answer in ${timeoutMs} ms`,
            ),
          );
        } else if (result.exitCode === 0 || options.okExitCodes?.includes(result.exitCode)) {
          resolve(result);
        } else {
          const reason = podmanReason(result.stderr);
          reject(
            new PodmanError(classify(reason), options.target, `${what} ${options.target}: ${reason}`, reason),
          );
        }
      });
    });
  }

  /** Runs a command whose stdout is JSON and parses it. */
  async json<T>(args: string[], options: ExecOptions): Promise<T> {
    const { stdout } = await this.exec(args, options);
    try {
      return JSON.parse(stdout) as T;
    } catch {
      throw new PodmanError(
        "FAILED",
        options.target,
        `podman ${args[0]} ${options.target}: unreadable JSON output: ${stdout.slice(0, 200)}`,
      );
    }
  }
}
