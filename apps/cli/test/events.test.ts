// `mcp events` reading the real nats-server that the real mcns publishes to.
import { spawn } from "node:child_process";
import { type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliConfig, type RunningApp, startMcns, ZONE } from "./platform.js";
import { MAIN, runMcp, tempHome } from "./run-mcp.js";

let nats: NatsServer;
let mcns: RunningApp;

beforeAll(async () => {
  nats = await startNatsServer();
  mcns = await startMcns(nats.url);
});
afterAll(async () => {
  await nats?.stop();
});

function home() {
  const { home, env } = tempHome();
  cliConfig(home, { mcns }, `[nats]\naddress = "${nats.url}"\n`);
  return env;
}

describe("mcp events", () => {
  it("prints stored events in order, filtered, from a sequence; JSON lines with --json", async () => {
    const env = home();
    for (const n of ["a", "b"]) {
      expect((await runMcp(["dns", "add", `${n}.${ZONE}`, "A", "192.0.2.1"], { env })).code).toBe(0);
    }
    expect((await runMcp(["dns", "rm", `a.${ZONE}`, "A"], { env })).code).toBe(0);

    const all = await runMcp(["events"], { env });
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split("  ").slice(2, 5))).toEqual([
      ["mcp.dns.created", `a.${ZONE}`, expect.stringMatching(/^mcns@test-node$/)],
      ["mcp.dns.created", `b.${ZONE}`, "mcns@test-node"],
      ["mcp.dns.deleted", `a.${ZONE}`, "mcns@test-node"],
    ]);
    expect(lines[0]).toMatch(/^#1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}/);

    const deleted = await runMcp(["events", "--filter", "mcp.dns.deleted"], { env });
    expect(deleted.stdout.trimEnd().split("\n")).toHaveLength(1);
    const fromTwo = await runMcp(["--json", "events", "--since", "2"], { env });
    const events = fromTwo.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => [e.sequence, e.type, e.subject])).toEqual([
      [2, "mcp.dns.created", `b.${ZONE}`],
      [3, "mcp.dns.deleted", `a.${ZONE}`],
    ]);
    expect(events[0].data).toMatchObject({ zone: ZONE, type: "A", value: "192.0.2.1" });
    expect((await runMcp(["events", "--since", "1h"], { env })).stdout.trimEnd().split("\n")).toHaveLength(3);
    expect((await runMcp(["events", "--since", "yesterday"], { env })).code).toBe(2);
  });

  it("-f follows new events until interrupted", async () => {
    const env = home();
    const child = spawn(process.execPath, [MAIN, "events", "-f", "--filter", "mcp.dns.created"], {
      env,
      cwd: env.HOME,
    });
    let out = "";
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => out.includes(text) && resolve();
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          check();
        });
        check();
      });
    const name = `follow.${ZONE}`;
    // The follower is connected once it has printed the stored events (the other test's).
    await seen(`b.${ZONE}`);
    expect((await runMcp(["dns", "add", name, "A", "192.0.2.7"], { env })).code).toBe(0);
    await seen(name);
    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
  });

  it("names the NATS server it cannot reach", async () => {
    const { home: dir, env } = tempHome();
    cliConfig(dir, {}, `[nats]\naddress = "nats://127.0.0.1:9"\n`);
    const result = await runMcp(["events"], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mcp: events: .*nats:\/\/127\.0\.0\.1:9/);
  });
});
