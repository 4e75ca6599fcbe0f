// The runtime against real podman: a busybox httpd container serving on its leased $PORT, reached
// with curl through the published port, inspected, listed by label, its logs read, stopped and
// removed, with the start/died/remove events observed on `podman events`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortAllocator } from "../src/ports/allocator.js";
import {
  buildContainerSpec,
  type ContainerSpec,
  DEFAULT_CONTAINER_DEFAULTS,
} from "../src/runtime/container-spec.js";
import { PodmanError } from "../src/runtime/errors.js";
import type { ContainerEvent } from "../src/runtime/events.js";
import { Podman } from "../src/runtime/podman.js";
import { Registry } from "../src/store/registry.js";
import { oneRoute } from "./helpers/definitions.js";
import { cleanUp, ensureTestImage, RUN_LABEL, runPrefix } from "./helpers/podman-fixture.js";

const prefix = runPrefix();
const network = `${prefix}-net`;
let image: string;
let dir: string;
let registry: Registry;
let podman: Podman;

beforeAll(() => {
  image = ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), "mcp-agent-podman-"));
  registry = new Registry(join(dir, "registry.db"));
  podman = new Podman();
});

afterAll(() => {
  cleanUp(prefix, [network]);
  podman?.close();
  registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function specFor(service: string, extra = ""): Promise<ContainerSpec> {
  const definition = oneRoute(service, image, extra);
  const allocator = new PortAllocator(registry.leases);
  const lease = await allocator.lease({ service, component: "web", route: "http", deployId: "D1" });
  const spec = buildContainerSpec({
    service,
    component: definition.components[0]!,
    deployId: "D1",
    hostPorts: { http: lease.hostPort },
    defaults: { ...DEFAULT_CONTAINER_DEFAULTS, network, stopTimeoutS: 1 },
  });
  spec.labels[RUN_LABEL] = prefix; // so cleanUp finds it even if the test fails midway
  return spec;
}

/** Polls until fn returns a value (no fixed sleeps); fails with the last error after timeoutMs. */
async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${String(last ?? "")}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

describe("podman runtime", () => {
  it("runs a container on its leased port, inspects, lists, logs, stops and removes it, with events", async () => {
    const service = `${prefix}-hello`;
    const spec = await specFor(service, 'env = { GREETING = "hi there" }');
    const port = spec.publish[0]!.hostPort!;
    const since = new Date(Date.now() - 1000);
    const events = podman.watch({ since, labels: { "mcp.service": service } });
    const seen: ContainerEvent[] = [];
    const collecting = (async () => {
      for await (const event of events) seen.push(event);
    })();

    await podman.ensureNetwork(network);
    await podman.ensureNetwork(network); // idempotent
    expect(await podman.imageExists(image)).toBe(true);
    await podman.ensureImage(image);
    const id = await podman.run(spec);
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const page = await eventually(async () => {
      const answer = await curl(`http://127.0.0.1:${port}/`);
      return answer.status === 200 ? answer.body : undefined;
    });
    expect(page).toBe("hello from busybox\n");

    const info = await podman.inspect(spec.name);
    expect(info).toMatchObject({
      id,
      name: spec.name,
      image,
      state: "running",
      cmd: ["sh", "-c", `echo listening on ${port}; exec httpd -f -p ${port} -h /www`],
      user: "0:0",
      restartPolicy: "unless-stopped",
      networks: [network],
      ports: [{ hostIp: "127.0.0.1", hostPort: port, containerPort: port, protocol: "tcp" }],
      labels: { "mcp.managed": "true", "mcp.service": service, "mcp.component": "web", "mcp.deploy": "D1" },
    });
    expect(info!.env).toMatchObject({ PORT: String(port), GREETING: "hi there" });
    expect(info!.startedAt).toBeInstanceOf(Date);

    const listed = await podman.list({ "mcp.service": service });
    expect(listed.map((c) => [c.name, c.state, c.labels["mcp.component"]])).toEqual([
      [spec.name, "running", "web"],
    ]);
    expect(await podman.list({ "mcp.service": `${service}-none` })).toEqual([]);

    const logs = await podman.logs(spec.name, { tail: 10 });
    expect(logs.stdout).toBe(`listening on ${port}\n`);

    await podman.stop(spec.name, 1); // busybox httpd ignores SIGTERM: SIGKILL after 1 s
    expect((await podman.inspect(spec.name))?.state).toBe("stopped");
    await podman.start(spec.name);
    expect((await podman.inspect(spec.name))?.state).toBe("running");
    expect(await podman.remove(spec.name)).toBe(true);
    expect(await podman.inspect(spec.name)).toBeUndefined();
    expect(await podman.remove(spec.name)).toBe(false);

    await eventually(async () => (seen.some((e) => e.status === "remove") ? true : undefined));
    await events.close();
    await collecting;
    const statuses = seen.map((e) => e.status);
    expect(statuses.filter((s) => s === "start")).toHaveLength(2);
    expect(statuses.indexOf("died")).toBeGreaterThan(statuses.indexOf("start"));
    expect(statuses.at(-1)).toBe("remove");
    const died = seen.find((e) => e.status === "died")!;
    expect(died).toMatchObject({ containerId: id, containerName: spec.name, exitCode: 137 });
    expect(died.labels).toMatchObject({ "mcp.service": service, "mcp.component": "web" });
  });

  it("names the container and podman's reason when something fails", async () => {
    const spec = await specFor(`${prefix}-missing`);
    spec.image = "localhost/mcp-agent-no-such-image:1";
    const created = await podman.create(spec).catch((e: unknown) => e);
    expect(created).toBeInstanceOf(PodmanError);
    expect(created).toMatchObject({ code: "IMAGE_NOT_FOUND", target: spec.name });
    expect((created as Error).message).toMatch(
      new RegExp(`^podman create ${spec.name}: .*localhost/mcp-agent-no-such-image:1`),
    );

    const stopped = await podman.stop(`${prefix}-nothing`, 1).catch((e: unknown) => e);
    expect(stopped).toMatchObject({ code: "NOT_FOUND", target: `${prefix}-nothing` });
    expect((stopped as Error).message).toMatch(
      new RegExp(`^podman stop ${prefix}-nothing: .*no such container`),
    );
    expect(await podman.inspect(`${prefix}-nothing`)).toBeUndefined();
  });

  it("refuses an environment value podman's env-file cannot carry", async () => {
    const spec = await specFor(`${prefix}-env`);
    spec.env.BAD = "two\nlines";
    await expect(podman.create(spec)).rejects.toThrow(
      `podman create ${spec.name}: env BAD contains a line break`,
    );
  });

  it("reports a pull failure naming the registry and the reason", async () => {
    const failure = await podman.pull("127.0.0.1:1/nothing/here:1").catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "PULL_FAILED", target: "127.0.0.1:1/nothing/here:1" });
    expect((failure as Error).message).toMatch(
      /^pulling 127\.0\.0\.1:1\/nothing\/here:1 from registry 127\.0\.0\.1:1 \(without credentials\) failed: .*connection refused/,
    );
  });
});
