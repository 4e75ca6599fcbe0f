import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

export const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** A fresh home directory (removed after the test) and the environment that points at it. */
export function tempHome(): { home: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), "mcp-cli-"));
  homes.push(home);
  return { home, env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, ".config") } };
}

/**
 * Runs the built `mcp` with arguments, stdin text and an environment (nothing inherited), in
 * `cwd` (default: the environment's HOME, so no `.mcp-dev/` of the repository is found).
 */
export function runMcp(
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: options.env,
      stdio: "pipe",
      cwd: options.cwd ?? options.env.HOME,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
