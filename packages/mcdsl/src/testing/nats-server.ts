import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** A real nats-server with JetStream, started for a test. */
export interface NatsServer {
  /** e.g. "nats://127.0.0.1:41234" */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (kept across restart()). */
  readonly storeDir: string;
  /** Stops the server (SIGTERM) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** An outage: stops the server, keeping its port and store for up(). */
  down(): Promise<void>;
  /** Starts it again after down(). */
  up(): Promise<void>;
  /** Stops the server and removes the store directory if this helper created it. */
  stop(): Promise<void>;
}

export interface StartNatsServerOptions {
  /** Default: a fresh temporary directory, removed by stop(). */
  storeDir?: string;
  /** Default: a free port. */
  port?: number;
  /** Require this token from clients (`--auth`). */
  token?: string;
  /** Enable JetStream (default true; false to test a client against a server without it). */
  jetstream?: boolean;
  /** How long to wait for "Server is ready" (default 10 s). */
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A test runner that dies without its afterAll must not leave servers behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts `nats-server -js -sd <dir> -a 127.0.0.1 -p <port>` and resolves when it logs that it is
 * ready (JetStream included), so a test can connect at once.
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const ownsStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "mcdsl-nats-"));
  const port = options.port ?? (await freePort());
  const args = ["-a", "127.0.0.1", "-p", String(port)];
  if (options.jetstream ?? true) args.push("-js", "-sd", storeDir);
  if (options.token) args.push("--auth", options.token);
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;

  let child = await launch(args, port, readyTimeoutMs);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async restart() {
      await terminate(child);
      child = await launch(args, port, readyTimeoutMs);
    },
    async down() {
      await terminate(child);
    },
    async up() {
      child = await launch(args, port, readyTimeoutMs);
    },
    async stop() {
      await terminate(child);
      if (ownsStore) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

async function launch(args: string[], port: number, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn("nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let log = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`nats-server on port ${port} was not ready after ${timeoutMs} ms:\n${log}`));
      }, timeoutMs);
      child.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const hint = err.code === "ENOENT" ? " (not on PATH: apt-get install nats-server)" : "";
        reject(new Error(`cannot start nats-server${hint}: ${err.message}`));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`nats-server on port ${port} exited (${code ?? signal}) before it was ready:\n${log}`),
        );
      });
      const onLog = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("Server is ready")) {
          clearTimeout(timer);
          child.stderr!.off("data", onLog);
          resolve();
        }
      };
      child.stderr!.on("data", onLog);
    });
  } catch (err) {
    await terminate(child);
    throw err;
  }
  child.stderr!.resume(); // keep draining its log so it never blocks on a full pipe
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(force);
}
