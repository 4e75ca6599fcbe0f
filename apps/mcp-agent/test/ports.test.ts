// Port leases against the real kernel: real binds, a real other process holding ports, the real
// ip_local_port_range, and a registry file reopened as after a restart.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PortAllocator, PortsExhaustedError } from "../src/ports/allocator.js";
import { canBind } from "../src/ports/bind-check.js";
import { readLocalPortRange } from "../src/ports/local-range.js";
import { leaseOwnerAlive } from "../src/ports/reclaim.js";
import { Registry } from "../src/store/registry.js";
import { metacrypt } from "./helpers/definitions.js";

let dir: string;
let path: string;
let registry: Registry;
const children: ChildProcess[] = [];

const owner = (component: string, deployId = "D1", service = "metacrypt") => ({
  service,
  component,
  route: "https",
  deployId,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mcp-agent-ports-"));
  path = join(dir, "registry.db");
  registry = new Registry(path);
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `count` consecutive free ports below the kernel's ephemeral range. */
async function freeRun(count: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 10000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
}

/** Another process listening on the given ports (host per port), ready when it says so. */
function holdPorts(bindings: [number, string][]): Promise<void> {
  const script = `const net = require("node:net"); let n = 0;
    for (const [port, host] of ${JSON.stringify(bindings)})
      net.createServer().listen(port, host, () => { if (++n === ${bindings.length}) console.log("ready"); });`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`port holder exited with ${code}`)));
  });
}

describe("port leases", () => {
  it("gives 300 concurrent requests from two registry connections 300 distinct persisted ports", async () => {
    const other = new Registry(path); // a second connection: as if a second process
    try {
      const base = await freeRun(1);
      const range = { min: base, max: base + 399 };
      const a = new PortAllocator(registry.leases, { range });
      const b = new PortAllocator(other.leases, { range });
      const leases = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).lease(owner(`c${i}`))),
      );
      const ports = leases.map((l) => l.hostPort);
      expect(new Set(ports).size).toBe(300);
      for (const port of ports) {
        expect(port).toBeGreaterThanOrEqual(range.min);
        expect(port).toBeLessThanOrEqual(range.max);
      }
      expect(
        registry.leases
          .list()
          .map((l) => l.hostPort)
          .sort(),
      ).toEqual([...ports].sort());
    } finally {
      other.close();
    }
  });

  it("skips ports another process holds on 127.0.0.1 or 0.0.0.0, then reports exhaustion clearly", async () => {
    const base = await freeRun(3);
    await holdPorts([
      [base, "127.0.0.1"],
      [base + 1, "0.0.0.0"],
    ]);
    const allocator = new PortAllocator(registry.leases, { range: { min: base, max: base + 2 } });

    const lease = await allocator.lease(owner("api"));
    expect(lease.hostPort).toBe(base + 2);
    expect(registry.leases.get(base + 2)).toMatchObject({
      service: "metacrypt",
      component: "api",
      deployId: "D1",
    });

    const error = await allocator.lease(owner("web")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortsExhaustedError);
    expect((error as PortsExhaustedError).code).toBe("RESOURCE_EXHAUSTED");
    expect((error as Error).message).toBe(
      `no free host port for metacrypt/web route https in ${base}-${base + 2}, the kernel's ephemeral range ` +
        `${allocator.localRange!.min}-${allocator.localRange!.max} skipped: 1 leased, 2 in use by other processes; ` +
        "widen [ports] range or stop a service",
    );
    // A failed attempt leaves no lease behind for the busy ports.
    expect(registry.leases.list().map((l) => l.hostPort)).toEqual([base + 2]);
  });

  it("never leases inside the kernel's ip_local_port_range", async () => {
    const local = readLocalPortRange();
    expect(local).toBeDefined();
    const inside = new PortAllocator(registry.leases, { range: { min: local!.min, max: local!.min + 50 } });
    await expect(inside.lease(owner("api"))).rejects.toThrow(/0 leased, 0 in use/);

    const straddling = new PortAllocator(registry.leases, {
      range: { min: local!.min - 3, max: local!.min + 50 },
    });
    const ports: number[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        ports.push((await straddling.lease(owner(`c${i}`))).hostPort);
      } catch (err) {
        expect(err).toBeInstanceOf(PortsExhaustedError); // fewer than 3 may be bindable
        break;
      }
    }
    expect(ports.length).toBeLessThanOrEqual(3);
    for (const port of ports) expect(port).toBeLessThan(local!.min);
  });

  it("leases all of a deploy's ports or none", async () => {
    const base = await freeRun(2);
    const allocator = new PortAllocator(registry.leases, { range: { min: base, max: base + 1 } });
    await expect(allocator.leaseAll([owner("a"), owner("b"), owner("c")])).rejects.toBeInstanceOf(
      PortsExhaustedError,
    );
    expect(registry.leases.count()).toBe(0);
    const leases = await allocator.leaseAll([owner("a"), owner("b")]);
    expect(leases.map((l) => l.component).sort()).toEqual(["a", "b"]);
  });

  it("refuses a range outside 1-65535 or upside down", () => {
    expect(() => new PortAllocator(registry.leases, { range: { min: 0, max: 10 } })).toThrow(
      "port range 0-10 must lie within 1-65535",
    );
    expect(() => new PortAllocator(registry.leases, { range: { min: 20, max: 10 } })).toThrow(/is empty/);
  });

  it("at start-up reclaims leases whose owner is gone and keeps live ones", async () => {
    const base = await freeRun(1);
    const allocator = new PortAllocator(registry.leases, { range: { min: base, max: base + 99 } });
    registry.services.put(metacrypt());
    const current = registry.journal.begin({ service: "metacrypt", definition: metacrypt() });
    registry.journal.finish(current.id, "completed");
    registry.services.setCurrentDeploy("metacrypt", current.id);
    const failed = registry.journal.begin({ service: "metacrypt", definition: metacrypt() });
    registry.journal.finish(failed.id, "rolled_back", "health gate");
    const crashed = registry.journal.begin({ service: "metacrypt", definition: metacrypt() });

    const live = await allocator.lease(owner("api", current.id));
    const orphan = await allocator.lease(owner("api", failed.id));
    const recovering = await allocator.lease(owner("web", crashed.id));
    const forgotten = await allocator.lease(owner("web", "D9", "gone-service"));

    registry.close(); // the agent restarts
    registry = new Registry(path);
    const restarted = new PortAllocator(registry.leases, { range: { min: base, max: base + 99 } });
    const reclaimed = restarted.reclaim(leaseOwnerAlive(registry));
    expect(reclaimed.map((l) => l.hostPort).sort()).toEqual([orphan.hostPort, forgotten.hostPort].sort());
    expect(
      registry.leases
        .list()
        .map((l) => l.hostPort)
        .sort(),
    ).toEqual([live.hostPort, recovering.hostPort].sort());

    registry.services.setDesiredState("metacrypt", "stopped");
    expect(restarted.reclaim(leaseOwnerAlive(registry)).map((l) => l.hostPort)).toEqual([live.hostPort]);
  });
});
