// Backup and restore of every SQLite database, as docs/backup-restore.md tells an operator: an online
// backup with sqlite3's `.backup` while the platform serves (hello under a steady HTTPS load), then,
// per app, a change made after the backup, the app stopped, the backup copied over its database
// (stale -wal/-shm removed), the app started — and the change is gone while the backed-up data serves.
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad } from "./helpers/load.js";
import { DATABASES, HELLO_HOST, Platform, PROXY_PORT } from "./helpers/platform.js";
import { run, runOk } from "./helpers/run.js";

type App = keyof typeof DATABASES;
const APPS = Object.keys(DATABASES) as App[];
let platform: Platform;
let backups: string;

const live = (app: App) => join(platform.state, DATABASES[app]);
const backup = (app: App) => join(backups, `${app}.db`);
const sqlite = async (file: string, sql: string) => (await runOk("sqlite3", [file, sql])).trim();

/** sqlite3 (Debian's package) is what the guide uses; install it when it is missing, as the apt target would. */
async function ensureSqlite3(): Promise<void> {
  if ((await run("bash", ["-c", "command -v sqlite3"])).code === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const install = await run("bash", [
    "-c",
    `${sudo.join(" ")} apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo.join(" ")} apt-get install -y -qq sqlite3`,
  ]);
  if (install.code !== 0)
    throw new Error(`sqlite3 is missing and apt-get could not install it:\n${install.stderr}`);
}

/** The guide's restore: stop the app, replace its database with the backup, drop the old WAL, start it. */
async function restore(app: App): Promise<void> {
  await platform.stopApp(app);
  copyFileSync(backup(app), live(app));
  rmSync(`${live(app)}-wal`, { force: true });
  rmSync(`${live(app)}-shm`, { force: true });
  await platform.startApp(app);
}

beforeAll(async () => {
  await ensureSqlite3();
  platform = await Platform.start("backup");
  backups = join(platform.dir, ".backups");
  mkdirSync(backups);
});

afterAll(async () => {
  await platform?.stop();
});

describe("backup and restore of every SQLite database", () => {
  it("backs up every database online while hello serves, with no failed request", async () => {
    const load = startLoad({
      host: HELLO_HOST,
      port: PROXY_PORT,
      caFile: platform.rootCa,
      marker: (body) => (body.includes("hello from MCP") ? "hello" : "other"),
    });
    await load.started;
    for (const app of APPS) {
      // A write in flight on the same database while it is copied.
      const writing =
        app === "mcns"
          ? platform.mcp("dns", "add", "busy.svc.mcp.metacircular.net", "A", "192.0.2.1")
          : undefined;
      await runOk("sqlite3", [live(app), `.backup '${backup(app)}'`]);
      await writing;
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.seen.map((s) => s.marker)).toEqual(["hello"]);
    for (const app of APPS) {
      expect(await sqlite(backup(app), "PRAGMA integrity_check")).toBe("ok");
      // The schema version the app's migrations track: a backup restores at the same version.
      expect(await sqlite(backup(app), "PRAGMA user_version")).toBe(
        await sqlite(live(app), "PRAGMA user_version"),
      );
      expect(Number(await sqlite(backup(app), "PRAGMA user_version"))).toBeGreaterThan(0);
    }
  });

  it("mcns: a restored database serves the backed-up records and not the later ones", async () => {
    await platform.mcpOk("dns", "add", "later.svc.mcp.metacircular.net", "A", "192.0.2.99");
    expect((await platform.dig("later.svc.mcp.metacircular.net")).answers).toEqual(["192.0.2.99"]);
    await restore("mcns");
    expect((await platform.dig("later.svc.mcp.metacircular.net")).status).toBe("NXDOMAIN");
    expect((await platform.dig(HELLO_HOST)).answers).toEqual(["127.0.0.1"]);
  });

  it("cert-broker: a restored database lists the backed-up certificates and not the later ones", async () => {
    await platform.mcpOk("cert", "issue", "later", "later.svc.mcp.metacircular.net");
    const serial =
      /^(\w+)\s+later\s/m.exec(await platform.mcpOk("cert", "list", "--service", "later"))?.[1] ?? "?";
    expect(serial).toMatch(/^[0-9a-f]{16,}$/);
    await restore("cert-broker");
    const list = await platform.mcpOk("cert", "list");
    expect(list).not.toContain(serial);
    expect(list).toMatch(new RegExp(`^\\w+\\s+hello\\s+${HELLO_HOST.replaceAll(".", "\\.")}\\s+valid`, "m"));
  });

  it("mcproxy-registry: a restored database routes the backed-up routes and not the later ones", async () => {
    const port = await freePort();
    await platform.mcpOk(
      "route",
      "add",
      "later.svc.mcp.metacircular.net",
      "127.0.0.1:9",
      "--port",
      String(port),
      "--mode",
      "l4",
    );
    expect(await platform.mcpOk("route", "list")).toContain("later.svc.mcp.metacircular.net");
    await restore("mcproxy-registry");
    const routes = await platform.mcpOk("route", "list");
    expect(routes).not.toContain("later.svc.mcp.metacircular.net");
    expect(routes).toContain(HELLO_HOST);
    expect((await platform.https(HELLO_HOST, PROXY_PORT)).stdout).toContain("hello from MCP");
  });

  it("mcp-agent: a restored registry knows the backed-up service; stop and deploy reconcile the node with it", async () => {
    await platform.mcpOk("stop", "hello");
    expect(await platform.mcpOk("status")).toMatch(/^hello\s+web\s+stopped/m);
    await restore("mcp-agent");
    // The registry says hello should run; the node says its container is gone: drift, shown.
    const status = await platform.mcpOk("status");
    expect(status).toMatch(/^hello\s+web\s+running\s+missing/m);
    // The operator's next step after restoring a registry (docs/backup-restore.md): stop what it
    // holds, then deploy it again. A deploy alone trusts the restored registry's record and route
    // ids, which the stop after the backup removed: it fails at route.added (see the suite's report).
    const stop = await platform.mcp("stop", "hello");
    expect(stop.code, `${stop.stdout}\n${stop.stderr}`).toBe(0);
    const deploy = await platform.mcp("deploy", "examples/services/hello.toml");
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expect(await platform.mcpOk("status")).toMatch(/^hello\s+web\s+running\s+running\s+healthy/m);
    expect(await platform.dig(HELLO_HOST)).toEqual({ status: "NOERROR", answers: ["127.0.0.1"] });
    expect((await platform.https(HELLO_HOST, PROXY_PORT)).stdout).toContain("hello from MCP");
  });

  it("the backups are ordinary files an operator can keep (no -wal needed)", () => {
    for (const app of APPS) {
      expect(existsSync(backup(app))).toBe(true);
      expect(existsSync(`${backup(app)}-wal`)).toBe(false);
    }
  });
});
