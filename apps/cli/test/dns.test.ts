// `mcp dns` against the real mcns process: what a user types, what they see, and what dig answers.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cliConfig, type RunningApp, startMcns, ZONE } from "./platform.js";
import { runMcp, tempHome } from "./run-mcp.js";

const run = promisify(execFile);
let mcns: RunningApp;

beforeAll(async () => {
  mcns = await startMcns();
});

async function dig(name: string, type: string): Promise<string> {
  const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(mcns.ports.dns), "+short", name, type]);
  return stdout.trim();
}

describe("mcp dns", () => {
  it("adds records that dig answers at once, lists them as a table and as JSON, removes them", async () => {
    const { home, env } = tempHome();
    cliConfig(home, { mcns });
    const name = `www.${ZONE}`;

    const added = await runMcp(["dns", "add", name, "A", "192.0.2.10", "--ttl", "120", "--owner", "web"], {
      env,
    });
    expect(added).toMatchObject({ code: 0, stderr: "" });
    expect(added.stdout).toMatch(
      new RegExp(`^added ${name} 120 A 192.0.2.10 \\(id [0-9A-Z]{26}, owner web\\)\\n$`),
    );
    expect(await dig(name, "A")).toBe("192.0.2.10");

    expect(
      (await runMcp(["dns", "add", `_sip._tcp.${ZONE}`, "SRV", "10 5 5060", `sip.${ZONE}.`], { env })).code,
    ).toBe(0);
    expect(await dig(`_sip._tcp.${ZONE}`, "SRV")).toBe(`10 5 5060 sip.${ZONE}.`);
    expect((await runMcp(["dns", "add", `txt.${ZONE}`, "txt", "hello world", "second"], { env })).code).toBe(
      0,
    );
    expect(await dig(`txt.${ZONE}`, "TXT")).toBe('"hello world" "second"');

    const list = await runMcp(["dns", "list", ZONE], { env });
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+TYPE\s+TTL\s+VALUE\s+OWNER$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1))).toEqual([
      [`_sip._tcp.${ZONE}`, "SRV", "300", `10 5 5060 sip.${ZONE}`, "root"],
      [`txt.${ZONE}`, "TXT", "300", '"hello world" "second"', "root"],
      [name, "A", "120", "192.0.2.10", "web"],
    ]);

    const json = JSON.parse((await runMcp(["--json", "dns", "list", "--type", "a"], { env })).stdout);
    expect(json.records).toEqual([
      expect.objectContaining({ name, type: "RECORD_TYPE_A", address: "192.0.2.10", owner: "web", ttl: 120 }),
    ]);
    const zones = JSON.parse((await runMcp(["dns", "zones", "--json"], { env })).stdout);
    expect(zones.zones).toEqual([expect.objectContaining({ name: ZONE, recordCount: 3 })]);

    // Another owner's record is refused, not removed; its owner may remove it.
    const foreign = await runMcp(["dns", "rm", name, "A"], { env });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(
      /^mcp: failed precondition: record \w+ \(www\.svc\.mcp\.test A\) belongs to "web", not "root"\n$/,
    );
    expect(await dig(name, "A")).toBe("192.0.2.10");
    const removed = await runMcp(["dns", "rm", name, "A", "192.0.2.10", "--owner", "web"], { env });
    expect(removed).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^removed www\.svc\.mcp\.test A 192\.0\.2\.10/),
    });
    expect(await dig(name, "A")).toBe("");

    const id = json.records[0].id as string;
    const gone = await runMcp(["dns", "rm", id], { env });
    expect(gone).toMatchObject({ code: 1, stderr: `mcp: not found: record "${id}" not found\n` });
  });

  it("says what is wrong: a bad value, an unknown type, no token, an unreachable server", async () => {
    const { home, env } = tempHome();
    const config = cliConfig(home, { mcns });
    expect(await runMcp(["dns", "add", `a.${ZONE}`, "MX", "10"], { env })).toMatchObject({
      code: 2,
      stderr: 'mcp: MX takes PREFERENCE EXCHANGE, got "10"\n',
    });
    expect((await runMcp(["dns", "list", "--type", "SOA"], { env })).stderr).toBe(
      'mcp: unknown record type "SOA" (one of A, AAAA, CNAME, TXT, SRV, MX, NS, CAA)\n',
    );
    expect((await runMcp(["dns", "add", `a.${ZONE}`, "A", "300.1.1.1"], { env })).stderr).toMatch(
      /^mcp: invalid argument: .*300\.1\.1\.1/,
    );

    const noToken = join(home, "empty-token");
    writeFileSync(noToken, "");
    const anonymous = await runMcp(["--token-file", noToken, "dns", "add", `a.${ZONE}`, "A", "192.0.2.1"], {
      env,
    });
    expect(anonymous).toMatchObject({
      code: 1,
      stderr:
        "mcp: unauthenticated: missing bearer token (store a token with `mcp login`, or set token_file)\n",
    });

    writeFileSync(config, `[mcns]\naddress = "http://127.0.0.1:9"\n`);
    const down = await runMcp(["dns", "zones"], { env });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^mcp: cannot reach the mcns at http:\/\/127\.0\.0\.1:9: .*ECONNREFUSED/);
  });

  it("finds the local platform through .mcp-dev/endpoints.json above the current directory", async () => {
    const { home, env } = tempHome();
    const repo = join(home, "repo");
    mkdirSync(join(repo, ".mcp-dev", "tokens"), { recursive: true });
    mkdirSync(join(repo, "apps", "cli"), { recursive: true });
    writeFileSync(join(repo, ".mcp-dev", "tokens", "admin"), `${mcns.token}\n`);
    writeFileSync(
      join(repo, ".mcp-dev", "endpoints.json"),
      JSON.stringify({
        mcns: mcns.url,
        nats: "nats://127.0.0.1:1",
        admin_token_file: ".mcp-dev/tokens/admin",
      }),
    );
    const added = await runMcp(["dns", "add", `dev.${ZONE}`, "AAAA", "2001:db8::1"], {
      env,
      cwd: join(repo, "apps", "cli"),
    });
    expect(added).toMatchObject({ code: 0, stderr: "" });
    expect(await dig(`dev.${ZONE}`, "AAAA")).toBe("2001:db8::1");
    // Outside the repository the defaults apply (nothing listens on mcns's default port here).
    const outside = await runMcp(["dns", "zones"], {
      env: { ...env, MCP_MCNS_ADDRESS: "http://127.0.0.1:9" },
    });
    expect(outside.stderr).toMatch(/^mcp: cannot reach the mcns at http:\/\/127\.0\.0\.1:9/);
  });

  it("imports a zone file into the running MCNS: dig answers at once, twice changes nothing, a bad line changes nothing", async () => {
    const { home, env } = tempHome();
    cliConfig(home, { mcns });
    const file = join(home, "old.zone");
    writeFileSync(
      file,
      [
        "$TTL 1h",
        "@        IN SOA ns1.mcp.test. hostmaster.mcp.test. ( 1 3600 600 86400 300 )",
        "         IN NS ns1.mcp.test.",
        "legacy   IN A 192.0.2.70",
        "         IN AAAA 2001:db8::70",
        "old-web  IN CNAME legacy",
        "_ldap._tcp IN SRV 0 0 389 legacy",
        'legacy   IN TXT "migrated from the old MCNS"',
      ].join("\n"),
    );

    const dry = await runMcp(["dns", "import", file, "--zone", ZONE, "--owner", "old", "--dry-run"], { env });
    expect(dry).toMatchObject({ code: 0, stderr: "" });
    expect(dry.stdout).toBe(
      `${file}: 5 records would be imported, 0 already present, 2 skipped (SOA and apex NS come from MCNS's configuration)\n`,
    );
    expect(await dig(`legacy.${ZONE}`, "A")).toBe("");

    const imported = await runMcp(["dns", "import", file, "--zone", `${ZONE}.`, "--owner", "old"], { env });
    expect(imported).toMatchObject({ code: 0, stderr: "" });
    expect(imported.stdout).toMatch(/: 5 records imported, 0 already present, 2 skipped/);
    // The running server answers at once: no restart.
    expect(await dig(`old-web.${ZONE}`, "AAAA")).toBe(`legacy.${ZONE}.\n2001:db8::70`);
    expect(await dig(`_ldap._tcp.${ZONE}`, "SRV")).toBe(`0 0 389 legacy.${ZONE}.`);
    expect(await dig(`legacy.${ZONE}`, "TXT")).toBe('"migrated from the old MCNS"');

    const again = await runMcp(["--json", "dns", "import", file, "--zone", ZONE, "--owner", "old"], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ created: 0, unchanged: 5, skipped: 2, problems: [] });

    // One bad line: nothing of the file is imported, and every bad line is named.
    writeFileSync(
      file,
      `$ORIGIN ${ZONE}.\nfresh IN A 192.0.2.71\nbroken IN A 192.0.2.300\nlegacy IN A 192.0.2.72\n`,
    );
    const bad = await runMcp(["dns", "import", file], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `mcp: ${file}:3: address "192.0.2.300" is not an IPv4 address\n` +
        `mcp: ${file}:4: legacy.${ZONE} A belongs to owner "old", not "import"\n` +
        "mcp: 2 problems, nothing was imported\n",
    );
    expect(bad.stdout).toBe("");
    expect(await dig(`fresh.${ZONE}`, "A")).toBe("");
    const checked = await runMcp(["dns", "import", "--dry-run", file], { env });
    expect(checked.code).toBe(1);
    expect(checked.stderr).toMatch(
      /:3: address "192\.0\.2\.300".*\n.*\nmcp: 2 problems, nothing would be imported\n$/,
    );

    expect(await runMcp(["dns", "import", join(home, "missing.zone")], { env })).toMatchObject({
      code: 1,
      stderr: `mcp: ${join(home, "missing.zone")}: no such file\n`,
    });
    expect((await runMcp(["dns", "import"], { env })).code).toBe(2);
  });
});
