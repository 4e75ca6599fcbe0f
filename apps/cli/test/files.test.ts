// `mcp push` and `mcp pull` against the real agent: files land in (and come from) the service's
// directory under the agent's [files] root, byte for byte, with their mode; bad paths, missing
// files and oversized pushes are refused with the agent's reason and change nothing.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { operatorAt, type RunningApp, startAgent } from "./platform.js";
import { runMcp } from "./run-mcp.js";

let agent: RunningApp;
const MAX = 512 * 1024;

beforeAll(async () => {
  agent = await startAgent({ maxFileBytes: MAX });
});

const operator = () => operatorAt(agent);
const onNode = (...parts: string[]) => join(agent.dir, "srv", ...parts);
const mode = (path: string) => statSync(path).mode & 0o777;

describe("mcp push and pull", () => {
  it("pushes a file of several chunks into the service's directory with its mode, and pulls it back identical", async () => {
    const { env, work } = operator();
    const data = randomBytes(200 * 1024 + 17); // four chunks, the last one short
    writeFileSync(join(work, "app.key"), data, { mode: 0o600 });
    const pushed = await runMcp(["push", "notes", "app.key", "config/app.key"], { env, cwd: work });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(
      /^pushed app\.key to notes:config\/app\.key \(.*\/srv\/notes\/config\/app\.key, 204817 bytes, mode 600, sha256 [0-9a-f]{64}\)\n$/,
    );
    expect(readFileSync(onNode("notes", "config", "app.key")).equals(data)).toBe(true);
    expect(mode(onNode("notes", "config", "app.key"))).toBe(0o600);

    const pulled = await runMcp(["pull", "notes", "config/app.key", "copy.key"], { env, cwd: work });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(
      /^pulled notes:config\/app\.key to copy\.key \(204817 bytes, mode 600, sha256 [0-9a-f]{64}\)\n$/,
    );
    expect(readFileSync(join(work, "copy.key")).equals(data)).toBe(true);
    expect(mode(join(work, "copy.key"))).toBe(0o600);
    // No temporary file is left beside it.
    expect(readdirSync(work).sort()).toEqual(["app.key", "copy.key"]);
  });

  it("names the file after its source by default, takes --mode, pulls to stdout with -, and answers --json", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "motd.txt"), "hello\n");
    const pushed = await runMcp(["--json", "push", "--mode", "640", "web", "motd.txt"], { env, cwd: work });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({
      service: "web",
      path: "motd.txt",
      size: 6,
      mode: 0o640,
    });
    expect(mode(onNode("web", "motd.txt"))).toBe(0o640);
    const out = await runMcp(["pull", "web", "motd.txt", "-"], { env, cwd: work });
    expect(out).toMatchObject({ code: 0, stdout: "hello\n", stderr: "" });
  });

  it("refuses to replace a local file without --force, and replaces it with", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "a.txt"), "new\n");
    expect((await runMcp(["push", "svc", "a.txt"], { env, cwd: work })).code).toBe(0);
    writeFileSync(join(work, "a.txt"), "old local\n");
    const refused = await runMcp(["pull", "svc", "a.txt"], { env, cwd: work });
    expect(refused).toMatchObject({
      code: 1,
      stderr: "mcp: a.txt exists: give --force to replace it, or another file name\n",
    });
    expect(readFileSync(join(work, "a.txt"), "utf8")).toBe("old local\n");
    expect((await runMcp(["pull", "--force", "svc", "a.txt"], { env, cwd: work })).code).toBe(0);
    expect(readFileSync(join(work, "a.txt"), "utf8")).toBe("new\n");
  });

  it("refuses what it must with the reason, and leaves nothing behind", async () => {
    const { env, work } = operator();
    writeFileSync(join(work, "f"), "x");
    writeFileSync(join(work, "big"), randomBytes(MAX + 1));
    const cases: [string[], number, RegExp][] = [
      [["push", "svc", "nope"], 1, /^mcp: nope: no such file\n$/],
      [["push", "svc", "."], 1, /^mcp: \.: not a regular file\n$/],
      [["push", "--mode", "9", "svc", "f"], 2, /--mode 9: expected octal permission bits/],
      [["push", "svc", "f", "../escape"], 1, /^mcp: invalid argument: .*\.\./],
      [
        ["push", "svc", "f", "/etc/passwd"],
        1,
        /^mcp: invalid argument: .*must be relative to the service directory/,
      ],
      [["push", "Bad_Name", "f"], 1, /^mcp: invalid argument: service name "Bad_Name"/],
      [["push", "svc", "big"], 1, /^mcp: resource exhausted: /],
      [["pull", "svc", "missing.txt"], 1, /^mcp: not found: /],
    ];
    for (const [args, code, stderr] of cases) {
      const result = await runMcp(args, { env, cwd: work });
      expect([args.join(" "), result.code], result.stderr).toEqual([args.join(" "), code]);
      expect(result.stderr).toMatch(stderr);
    }
    expect(existsSync(onNode("svc", "big"))).toBe(false);
    expect(existsSync(join(agent.dir, "escape"))).toBe(false);
    expect(readdirSync(work).sort()).toEqual(["big", "f"]);
  });
});
