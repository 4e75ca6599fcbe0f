// `mcp sync` and `mcp adopt` against the real agent and real podman containers: sync makes the
// node run what the services directory defines (deploy, stop, prune), and adopt takes containers
// started by hand into the registry.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBusyboxImage } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliConfig, type RunningApp, startAgent } from "./platform.js";
import { runMcp } from "./run-mcp.js";

const IMAGE = ensureBusyboxImage("localhost/mcp-cli-test-busybox:1", "hello from the cli test\n");
const PREFIX = `clis-${Math.random().toString(36).slice(2, 7)}`;
const [ONE, TWO, HANDMADE] = [`${PREFIX}-one`, `${PREFIX}-two`, `${PREFIX}-byhand`];

let agent: RunningApp;
let home: string;
let env: NodeJS.ProcessEnv;
let services: string;

const definition = (name: string, active = true) =>
  `name = "${name}"\nactive = ${active}\n[[components]]\nname = "app"\nimage = "${IMAGE}"\ncmd = ["sleep", "3600"]\n`;

beforeAll(async () => {
  agent = await startAgent({ network: `${PREFIX}-net` });
  home = mkdtempSync(join(tmpdir(), "mcp-cli-sync-"));
  env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
  cliConfig(home, { agent });
  services = join(home, ".config", "mcp", "services");
  mkdirSync(services, { recursive: true });
});

afterAll(() => {
  const names = podmanNames().filter((n) => n.startsWith(PREFIX));
  if (names.length > 0) execFileSync("podman", ["rm", "-f", "-t", "0", ...names]);
  try {
    execFileSync("podman", ["network", "rm", "-f", `${PREFIX}-net`], { stdio: "ignore" });
  } catch {}
  rmSync(home, { recursive: true, force: true });
});

function podmanNames(all = true): string[] {
  return execFileSync("podman", ["ps", ...(all ? ["-a"] : []), "--format", "{{.Names}}"], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
}
const running = (service: string) => podmanNames(false).filter((n) => n.startsWith(`${service}-`));

/** `mcp sync …`'s table as [service, action] pairs, and the run. */
async function sync(...args: string[]) {
  const result = await runMcp(["sync", ...args], { env });
  const rows = result.stdout
    .split("\n")
    .slice(1)
    .filter((line) => line.startsWith(PREFIX))
    .map((line) => {
      const [service, , action] = line.split(/\s{2,}/);
      return [service, action];
    });
  return { ...result, rows };
}

describe("mcp sync", () => {
  it("shows what it would do with --dry-run and changes nothing, then deploys, then leaves a synced node alone", async () => {
    writeFileSync(join(services, `${ONE}.toml`), definition(ONE));
    writeFileSync(join(services, `${TWO}.toml`), definition(TWO));
    const dry = await sync("--dry-run");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.rows).toEqual([
      [ONE, "deployed"],
      [TWO, "deployed"],
    ]);
    expect(dry.stdout).toContain("(dry run: nothing was changed)");
    expect(running(ONE)).toEqual([]);

    const first = await sync();
    expect(first.code, first.stderr).toBe(0);
    expect(first.rows).toEqual([
      [ONE, "deployed"],
      [TWO, "deployed"],
    ]);
    expect(running(ONE)).toHaveLength(1);
    expect(running(TWO)).toHaveLength(1);

    const again = await sync();
    expect(again.rows).toEqual([
      [ONE, "unchanged"],
      [TWO, "unchanged"],
    ]);
  });

  it("stops a service made inactive, and with --prune removes one whose definition is gone", async () => {
    writeFileSync(join(services, `${TWO}.toml`), definition(TWO, false));
    const stopped = await sync();
    expect(stopped.rows).toEqual([
      [ONE, "unchanged"],
      [TWO, "stopped"],
    ]);
    expect(running(TWO)).toEqual([]);

    unlinkSync(join(services, `${TWO}.toml`));
    const plain = await sync();
    expect(plain.rows).toEqual([[ONE, "unchanged"]]);
    const pruned = await sync("--prune");
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.rows).toEqual([
      [ONE, "unchanged"],
      [TWO, "removed"],
    ]);
    const list = await runMcp(["list"], { env });
    expect(list.stdout).toContain(ONE);
    expect(list.stdout).not.toContain(TWO);
  });

  it("refuses a set with a bad definition before sending anything, naming the file and line", async () => {
    writeFileSync(
      join(services, `${TWO}.toml`),
      `name = "${TWO}"\n[[components]]\nname = "app"\nimage = ""\n`,
    );
    const refused = await sync("--prune");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`${TWO}\\.toml:4`));
    // ONE still runs: the bad set was not applied (with --prune it would have been kept anyway).
    expect(running(ONE)).toHaveLength(1);
    unlinkSync(join(services, `${TWO}.toml`));
  });
});

describe("mcp adopt", () => {
  it("takes a container started by hand into the registry; status and export then show it", async () => {
    execFileSync("podman", ["run", "-d", "--name", `${HANDMADE}-worker`, IMAGE, "sleep", "3600"], {
      stdio: "ignore",
    });
    const adopted = await runMcp(["adopt", HANDMADE], { env });
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout).toMatch(
      new RegExp(
        `^CONTAINER\\s+COMPONENT\\s+ID\\s+IMAGE\\n${HANDMADE}-worker\\s+worker\\s+[0-9a-f]{12}\\s+${IMAGE.replace(/[.]/g, "\\.")}\\n`,
      ),
    );
    expect(adopted.stdout).toContain(`adopted 1 container into ${HANDMADE}`);
    const status = await runMcp(["status", HANDMADE], { env });
    expect(status.stdout).toMatch(/worker.*running/);
    const exported = await runMcp(["service", "export", HANDMADE], { env });
    expect(exported.stdout).toContain(`image = "${IMAGE}"`);

    const none = await runMcp(["adopt", `${PREFIX}-nothing`], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^mcp: not found: no container named /);
  });
});
