import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { describe, expect, it } from "vitest";
import { runMcp, tempHome } from "./run-mcp.js";

describe("mcp token create", () => {
  it("prints a token once and stores only its hash, which the static authenticator accepts", async () => {
    const { home, env } = tempHome();
    const file = join(home, "tokens.toml");
    const first = await runMcp(["token", "create", "--name", "agent", "--role", "agent", "--file", file], {
      env,
    });
    const second = await runMcp(
      ["--json", "token", "create", "--name", "ops", "--role", "admin", "reader", "--file", file],
      { env },
    );
    expect(first).toMatchObject({ code: 0, stderr: "" });
    const agentToken = first.stdout.trim();
    const ops = JSON.parse(second.stdout);
    expect(ops).toMatchObject({ name: "ops", roles: ["admin", "reader"], files: [file] });

    const stored = readFileSync(file, "utf8");
    expect(stored).not.toContain(agentToken);
    expect(stored).not.toContain(ops.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const auth = loadStaticAuthenticator(file);
    expect(await auth.authenticate(agentToken)).toEqual({ name: "agent", roles: ["agent"] });
    expect(await auth.authenticate(ops.token)).toEqual({ name: "ops", roles: ["admin", "reader"] });
    expect(await auth.authenticate(`${agentToken}x`)).toBeUndefined();
  });

  it("appends the same token to several services' files", async () => {
    const { home, env } = tempHome();
    const files = [join(home, "a", "tokens.toml"), join(home, "b", "tokens.toml")];
    const result = await runMcp(["token", "create", "--name", "ops", "--role", "admin", "--file", ...files], {
      env,
    });
    expect(result.code).toBe(0);
    for (const file of files) {
      expect(await loadStaticAuthenticator(file).authenticate(result.stdout.trim())).toEqual({
        name: "ops",
        roles: ["admin"],
      });
    }
  });

  it("refuses a bad name and writes nothing", async () => {
    const { home, env } = tempHome();
    const file = join(home, "tokens.toml");
    const result = await runMcp(["token", "create", "--name", "Bad Name", "--file", file], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'mcp: --name "Bad Name" must be [a-z0-9._-], starting with a letter or digit\n',
    );
    expect(() => statSync(file)).toThrow();
  });
});
