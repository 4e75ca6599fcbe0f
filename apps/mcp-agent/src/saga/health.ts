// The health gate (DESIGN.md section 5): probes start at once and back off from 50 ms up to the
// check's interval; each probe has its own timeout; the whole gate a deadline. A container that
// exits (or restarts) meanwhile fails the gate at once, with its last log lines.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { HealthCheck } from "@mcp/mcdsl/servicedef";
import type { Podman } from "../runtime/podman.js";
import { StepError } from "./context.js";

export interface HealthTarget {
  container: string;
  check: HealthCheck;
  /** The host ports to probe (127.0.0.1). */
  ports: number[];
}

const FIRST_BACKOFF_MS = 50;
const CONTAINER_CHECK_MS = 500;

/** Resolves with the time it took; throws StepError (DEADLINE_EXCEEDED or FAILED_PRECONDITION). */
export async function waitHealthy(podman: Podman, target: HealthTarget): Promise<number> {
  const { check } = target;
  const start = Date.now();
  const deadline = start + check.deadlineMs;
  let backoff = FIRST_BACKOFF_MS;
  let lastCheck = 0;
  let lastProblem = "not probed yet";
  if (check.kind === "none") {
    await checkRunning(podman, target.container);
    return Date.now() - start;
  }
  for (;;) {
    const remaining = deadline - Date.now();
    const problem = await probeAll(target, Math.min(check.timeoutMs, Math.max(remaining, 1)));
    if (problem === undefined) return Date.now() - start;
    lastProblem = problem;
    // Only a failing probe asks podman whether the container is still there (a podman call is
    // slower than a probe).
    if (Date.now() - lastCheck >= CONTAINER_CHECK_MS) {
      lastCheck = Date.now();
      await checkRunning(podman, target.container);
    }
    if (Date.now() + backoff > deadline) {
      await checkRunning(podman, target.container);
      throw new StepError(
        "DEADLINE_EXCEEDED",
        `${target.container} was not healthy within ${check.deadlineMs} ms: ${lastProblem}`,
      );
    }
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, check.intervalMs);
  }
}

async function checkRunning(podman: Podman, container: string): Promise<void> {
  const info = await podman.inspect(container);
  if (info && info.state === "running" && info.restartCount === 0) return;
  const state = info ? `${info.status} (code ${info.exitCode}, ${info.restartCount} restarts)` : "missing";
  let logs = "";
  try {
    const out = await podman.logs(container, { tail: 5 });
    logs = `${out.stdout}${out.stderr}`.trim().split("\n").slice(-5).join(" | ");
  } catch {
    // no logs to show
  }
  throw new StepError(
    "FAILED_PRECONDITION",
    `${container} stopped during its health gate: ${state}${logs ? `; last output: ${logs}` : ""}`,
  );
}

/** undefined when every port passes; else the first problem. */
async function probeAll(target: HealthTarget, timeoutMs: number): Promise<string | undefined> {
  for (const port of target.ports) {
    const problem =
      target.check.kind === "http"
        ? await probeHttp(port, target.check.path ?? "/", timeoutMs)
        : await probeTcp(port, timeoutMs);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function probeTcp(port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`TCP connect to 127.0.0.1:${port} timed out`));
    socket.once("connect", () => done(undefined));
    socket.once("error", (err) => done(`TCP connect to 127.0.0.1:${port}: ${err.message}`));
  });
}

function probeHttp(port: number, path: string, timeoutMs: number, tls = false): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = tls ? httpsRequest : httpRequest;
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "GET",
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 400 ? undefined : `GET ${path} on port ${port} answered ${status}`);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", (err) => resolve(`GET ${path} on port ${port}: ${err.message}`));
    req.end();
  });
}
