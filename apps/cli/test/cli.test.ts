import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAIN, runMcp, tempHome } from "./run-mcp.js";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("mcp login", () => {
  it("stores the trimmed token from stdin in ~/.config/mcp/token, mode 0600", async () => {
    const { home, env } = tempHome();
    const result = await runMcp(["login"], { env, input: "  s3cret-token\n\n" });
    const file = join(home, ".config", "mcp", "token");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(`token stored in ${file}\n`);
    expect(readFileSync(file, "utf8")).toBe("s3cret-token");
    expect(mode(file)).toBe(0o600);
    expect(mode(join(home, ".config", "mcp"))).toBe(0o700);
  });

  it("replaces an existing token file that had loose permissions", async () => {
    const { home, env } = tempHome();
    const file = join(home, ".config", "mcp", "token");
    mkdirSync(join(home, ".config", "mcp"), { recursive: true });
    writeFileSync(file, "old", { mode: 0o644 });
    expect((await runMcp(["login"], { env, input: "new\n" })).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(mode(file)).toBe(0o600);
  });

  it("honours --token-file, then token_file in the config", async () => {
    const { home, env } = tempHome();
    const flagged = join(home, "flag", "token");
    expect((await runMcp(["--token-file", flagged, "login"], { env, input: "a" })).code).toBe(0);
    expect(readFileSync(flagged, "utf8")).toBe("a");

    mkdirSync(join(home, ".config", "mcp"), { recursive: true });
    writeFileSync(join(home, ".config", "mcp", "mcp.toml"), 'token_file = "~/tokens/mcp"\n');
    const result = await runMcp(["login", "--json"], { env, input: "b" });
    expect(JSON.parse(result.stdout)).toEqual({ token_file: join(home, "tokens", "mcp") });
    expect(readFileSync(join(home, "tokens", "mcp"), "utf8")).toBe("b");
  });

  it("refuses an empty token", async () => {
    const { env } = tempHome();
    const result = await runMcp(["login"], { env, input: " \n" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("mcp: no token given: pipe it on stdin or type it at the prompt\n");
  });

  it("prompts on a terminal without echoing the token", async () => {
    const { home, env } = tempHome();
    // script(1) gives the command a real pseudo-terminal; what it echoes comes back on stdout.
    const child = spawn("script", ["-qec", `${process.execPath} ${MAIN} login`, "/dev/null"], { env });
    let output = "";
    let typed = false;
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (!typed && output.includes("Token: ")) {
        typed = true;
        child.stdin.write("typed-secret\r");
      }
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(output).toContain("Token: ");
    expect(output).not.toContain("typed-secret");
    expect(readFileSync(join(home, ".config", "mcp", "token"), "utf8")).toBe("typed-secret");
  });
});

describe("mcp version", () => {
  it("prints the versions as text and as JSON", async () => {
    const { env } = tempHome();
    const text = await runMcp(["version"], { env });
    expect(text.stdout).toMatch(/^mcp 0\.1\.0\nnode 24\.\d+\.\d+ \(linux-x64\)\n$/);
    const json = await runMcp(["--json", "version"], { env });
    expect(JSON.parse(json.stdout)).toEqual({
      mcp: "0.1.0",
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    });
  });
});

describe("errors", () => {
  it("a bad config file prints file:line and exits 1", async () => {
    const { home, env } = tempHome();
    const config = join(home, "mcp.toml");
    writeFileSync(config, '# mcp\n[agent]\naddress = "rift:9444"\n[mcns]\nadress = "https://rift:8444"\n');
    const result = await runMcp(["--config", config, "login"], { env, input: "tok" });
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")).toEqual([
      `mcp: ${config}:3: [agent] address: expected an http:// or https:// URL such as https://rift:9444, got "rift:9444"`,
      `mcp: ${config}:5: [mcns] adress: unknown key (did you mean "address"?)`,
      "",
    ]);
  });

  it("a missing --config file is an error; a missing default one is not", async () => {
    const { home, env } = tempHome();
    const missing = await runMcp(["--config", join(home, "none.toml"), "login"], { env, input: "tok" });
    expect(missing).toMatchObject({
      code: 1,
      stderr: `mcp: ${join(home, "none.toml")}: cannot read the file: no such file\n`,
    });
    expect((await runMcp(["login"], { env, input: "tok" })).code).toBe(0);
  });

  it("$MCP_* variables are checked like the file", async () => {
    const { env } = tempHome();
    const result = await runMcp(["login"], { env: { ...env, MCP_AGENT_ADDRESS: "nope" }, input: "tok" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mcp: \$MCP_AGENT_ADDRESS: \[agent\] address: expected an http/);
  });

  it("an unknown command exits 2 with a suggestion", async () => {
    const { env } = tempHome();
    expect(await runMcp(["logn"], { env })).toEqual({
      code: 2,
      stdout: "",
      stderr: "mcp: unknown command 'logn' (Did you mean login?)\n",
    });
    expect((await runMcp(["--bogus", "version"], { env })).stderr).toBe("mcp: unknown option '--bogus'\n");
  });

  it("help lists every command, sync, adopt, push and pull included; an unknown one is a usage error", async () => {
    const { env } = tempHome();
    const help = await runMcp(["--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:\n\s+adopt .*\n[\s\S]*\n\s+version /);
    for (const usage of [
      "sync",
      "adopt <service> [containers...]",
      "push [options] <service> <file> [path]",
      "pull [options] <service> <path> [file]",
    ]) {
      expect(help.stdout).toContain(`\n  ${usage}`);
    }
    expect(help.stdout).not.toContain("Coming soon");
    const unknown = await runMcp(["adoptt", "hello"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^mcp: unknown command 'adoptt'.*adopt/);
  });

  it("no command prints the help on stderr and exits 2", async () => {
    const { env } = tempHome();
    const result = await runMcp([], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Usage: mcp \[options\] \[command\]/);
  });
});

describe("output into a closed pipe", () => {
  it("ends quietly when the reader stops early (mcp … | head -1)", async () => {
    const { env } = tempHome();
    // `true` exits at once, so the pipe is closed before mcp writes its help into it (EPIPE).
    const child = spawn("bash", ["-c", `set -o pipefail; ${process.execPath} ${MAIN} --help | true`], {
      env,
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
