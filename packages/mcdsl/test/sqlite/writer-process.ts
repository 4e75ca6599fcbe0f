import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

/** The fixtures/writer.mjs child: inserts rows and reports each committed id. */
export interface WriterProcess {
  child: ChildProcess;
  /** Ids the child printed (committed), complete lines only. */
  committed: number[];
  /** Resolves once at least `count` ids were printed. */
  waitFor(count: number): Promise<void>;
  kill(): Promise<void>;
}

export function startWriter(dbPath: string): WriterProcess {
  const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "writer.mjs"), dbPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const committed: number[] = [];
  let partial = "";
  let stderr = "";
  const waiters: { count: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? ""; // a line cut by the kill is not a report
    for (const line of lines) committed.push(Number(line));
    for (const w of waiters.filter((w) => committed.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.on("exit", (code, signal) => {
    for (const w of waiters.splice(0)) {
      w.reject(new Error(`writer exited (${code ?? signal}) after ${committed.length} ids: ${stderr}`));
    }
  });

  return {
    child,
    committed,
    waitFor: (count) =>
      committed.length >= count
        ? Promise.resolve()
        : new Promise((resolve, reject) => waiters.push({ count, resolve, reject })),
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}
