// `mcp push` / `mcp pull` used carelessly: pulling onto a directory or into a folder that does not
// exist, to a closed stdout or a reader that stops early, odd --mode values and a target path
// ending in "/". Each must end with a clear message (no stack trace) and leave no temporary file.
// Cases that found a bug say so ("Was a bug"): each failed before its fix in commands/files.ts.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { operatorAt, type RunningApp, startAgent } from "./platform.js";
import { MAIN, type Result, runMcp } from "./run-mcp.js";

let agent: RunningApp;

beforeAll(async () => {
  agent = await startAgent({ maxFileBytes: 4 * 1024 * 1024 });
});

const operator = () => operatorAt(agent);
const onNode = (...parts: string[]) => join(agent.dir, "srv", ...parts);

/** `mcp` through sh, so its stdout can be closed (`>&-`) or cut short (`| head -c 1`). */
function runShell(shell: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", shell, "mcp", process.execPath, MAIN, ...args], { env, cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function seed(service: string, name: string, data: Buffer | string): Promise<void> {
  mkdirSync(onNode(service), { recursive: true });
  writeFileSync(onNode(service, name), data);
}

describe("mcp pull, carelessly", () => {
  // Was a bug, now fixed: `mcp pull svc a.txt somedir` says "somedir exists: give --force" (commands/files.ts:81),
  // and with --force dies in renameSync (EISDIR) with a stack trace (commands/files.ts:167). Fix:
  // when `out` is a directory, write join(out, basename(path)) as cp does (or refuse up front with
  // CliError "<out> is a directory"). Either passes here.
  it("pulls onto an existing directory into it (as cp), or refuses naming the directory", async () => {
    const { env, work } = operator();
    await seed("web", "a.txt", "node a\n");
    mkdirSync(join(work, "into"));
    for (const args of [[], ["--force"]]) {
      const result = await runMcp(["pull", ...args, "web", "a.txt", "into"], { env, cwd: work });
      expect(result.stderr).not.toMatch(/^mcp:\s+at /m);
      if (result.code === 0) expect(readFileSync(join(work, "into", "a.txt"), "utf8")).toBe("node a\n");
      else expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/^mcp: into.* directory/) });
      expect(readdirSync(work)).toEqual(["into"]);
    }
  });

  // Was a bug, now fixed: a folder that does not exist: open() of the temporary file throws ENOENT
  // (commands/files.ts:140) and the CLI prints a stack trace, after ~6 s: the PullFile call was
  // started before (commands/files.ts:85) and its unread stream keeps the process alive. Fix: open
  // the temporary file before calling the agent (or abort the call on error), and turn the
  // ENOENT into CliError "<dirname>: no such directory".
  it("names a missing local folder at once, without a stack trace", async () => {
    const { env, work } = operator();
    await seed("web", "c.txt", "node c\n");
    const result = await runShell(
      'exec timeout 3 "$@"',
      ["pull", "web", "c.txt", "nowhere/c.txt"],
      env,
      work,
    );
    expect(result.code).toBe(1); // not 124: timed out
    expect(result.stderr).toMatch(/^mcp: .*nowhere/);
    expect(result.stderr).not.toMatch(/^mcp:\s+at /m);
  });

  // A closed stdout (`>&-`) is reopened on /dev/null by Node itself before mcp runs, so the pull
  // "succeeds" into nothing, as `> /dev/null` would; what matters is that it does not crash.
  it("ends quietly (exit 0) when the reader of stdout stops early, or stdout is closed", async () => {
    const { env, work } = operator();
    await seed("web", "big.bin", randomBytes(3 * 1024 * 1024));
    const cut = await runShell('"$@" | head -c 10 >/dev/null', ["pull", "web", "big.bin", "-"], env, work);
    expect(cut).toMatchObject({ code: 0, stderr: "" });
    const closed = await runShell('exec "$@" >&-', ["pull", "web", "big.bin", "-"], env, work);
    expect(closed).toMatchObject({ code: 0, stderr: "" });
    expect(readdirSync(work)).toEqual([]);
  });

  it("keeps the local file when the pull fails, and leaves no temporary file", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "keep.txt"), "mine\n");
    const result = await runMcp(["pull", "--force", "web", "missing.txt", "keep.txt"], { env, cwd: work });
    expect(result).toMatchObject({ code: 1, stderr: "mcp: not found: missing.txt: no such file\n" });
    expect(readFileSync(join(work, "keep.txt"), "utf8")).toBe("mine\n");
    expect(readdirSync(work)).toEqual(["keep.txt"]);
  });
});

describe("mcp push, carelessly", () => {
  it("refuses --mode values beyond permission bits, or not octal, as usage errors", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "f"), "x");
    for (const mode of ["0o7777", "1000", "4755", "0o1777", "888", "0x1ff"]) {
      const result = await runMcp(["push", "--mode", mode, "web", "f"], { env, cwd: work });
      expect([mode, result.code]).toEqual([mode, 2]);
      expect(result.stderr).toContain(`--mode ${mode}`);
    }
    expect(existsSync(onNode("web", "f"))).toBe(false);
  });

  it("takes 0o640 and 0644 spellings", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "g"), "x");
    for (const [mode, bits] of [
      ["0o640", 0o640],
      ["0644", 0o644],
    ] as const) {
      const result = await runMcp(["push", "--mode", mode, "web", "g"], { env, cwd: work });
      expect(result.code, result.stderr).toBe(0);
      expect(statSync(onNode("web", "g")).mode & 0o777).toBe(bits);
    }
  });

  // Was a bug, now fixed: `--mode 000` sends mode 0, which the protocol reads as "the default 0644"
  // (service.proto FileHeader.mode), and the CLI still prints "mode 0" (commands/files.ts:51).
  // Fix: refuse --mode 0 in parseMode (UsageError), or have PushFileResponse return the mode set.
  it("does not report mode 0 while the node has 0644", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "h"), "x");
    const result = await runMcp(["push", "--mode", "000", "web", "h"], { env, cwd: work });
    if (result.code === 0) {
      expect(result.stdout).toContain(`mode ${(statSync(onNode("web", "h")).mode & 0o777).toString(8)}`);
    } else {
      expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining("--mode 000") });
    }
  });

  // Was a bug, now fixed: `mcp push svc app.key conf/` sends "conf/" as the path; the agent drops the slash
  // (files/paths.ts:23) and writes a FILE named conf. Fix (CLI, commands/files.ts:41): a path
  // ending in "/" means a directory: target = path + basename(file).
  it("pushes into a directory when the target path ends with /", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "app.key"), "key\n");
    const result = await runMcp(["push", "web", "app.key", "conf/"], { env, cwd: work });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(onNode("web", "conf", "app.key"), "utf8")).toBe("key\n");
  });

  it("refuses a local FIFO without reading it (which would block)", async () => {
    const { env, work } = operator();
    const fifo = join(work, "pipe");
    await new Promise((r) => spawn("mkfifo", [fifo]).on("close", r));
    const result = await runMcp(["push", "web", "pipe"], { env, cwd: work });
    expect(result).toMatchObject({ code: 1, stderr: "mcp: pipe: not a regular file\n" });
  });
});
