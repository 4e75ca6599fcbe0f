import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";

/** A platform app started as its real binary (`node dist/main.js …`) for a test. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (its JSON logs on stdout, errors on stderr). */
  stdout(): string;
  stderr(): string;
  /** Resolves when `GET <url>` answers 2xx (e.g. the app's /readyz); fails with the app's output. */
  waitReady(url: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful shutdown) and the exit code; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** The exit code once the process has exited by itself. */
  exited(): Promise<number | null>;
}

export interface StartAppOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * The Node flags an app's `main` ships with: those of its `#!/usr/bin/env -S node …` line (the
 * units and images pass the same), so that a test runs the process as operators do.
 */
export function shebangFlags(main: string): string[] {
  let first: string;
  try {
    first = readFileSync(main, "utf8").slice(0, 200).split("\n", 1)[0] ?? "";
  } catch {
    return []; // a missing main fails in spawn, with Node's own message
  }
  const flags = /^#!\/usr\/bin\/env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first)?.[1];
  return flags ? flags.trim().split(/\s+/) : [];
}

/** Starts `node <its shebang's flags> <main> <args…>` with the test runner's Node. */
export function startApp(main: string, args: string[], options: StartAppOptions = {}): AppProcess {
  const child = spawn(process.execPath, [...shebangFlags(main), main, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  const exit = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    async waitReady(url, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!alive())
          throw new Error(`${main} exited (${child.exitCode ?? child.signalCode}) before ready:\n${err}`);
        const res = await fetch(url).catch(() => undefined);
        if (res?.ok) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${main} was not ready at ${url} after ${timeoutMs} ms:\n${err}`);
    },
    async stop(graceMs = 10_000) {
      if (!alive()) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (alive()) {
        child.kill("SIGKILL");
        await once(child, "exit").catch(() => {});
      }
    },
  };
}
