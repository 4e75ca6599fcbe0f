// SIGHUP reloads the bootstrap file without a restart: a route it dropped is gone, a new one is
// served (on a new port too), changed backends are switched, and an unchanged route keeps its id
// and its open connections. A file with a mistake changes nothing and says where the mistake is.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  type ProxyProcess,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let one: Backend;
let two: Backend;
let port: number;
let newPort: number;
let ca: Buffer;

const file = () => join(dir, "proxy", "bootstrap.toml");
const routesFile = (listeners: Array<[number, Array<[string, Backend]>]>) =>
  listeners
    .map(
      ([p, routes]) =>
        `[[listeners]]\naddr = ":${p}"\n` +
        routes
          .map(
            ([hostname, b]) =>
              `  [[listeners.routes]]\n  hostname = "${hostname}"\n  backend = "${b.address}"\n`,
          )
          .join(""),
    )
    .join("");

/** Which backend answers `hostname` on `p` (curl, the chain verified), or curl's failure. */
async function answeredBy(p: number, hostname: string): Promise<string> {
  try {
    const r = await curlVia(p, hostname, pki.rootFile);
    return r.status === 200 ? String((r.json as { backend: string }).backend) : `failed (${r.status})`;
  } catch (err) {
    return `failed (${(err as Error).message.split("\n").at(-2) ?? err})`;
  }
}

/** One request on an open TLS connection (HTTP/1.1 keep-alive through the L4 route). */
async function ask(socket: TLSSocket, hostname: string): Promise<string> {
  socket.write(`GET / HTTP/1.1\r\nhost: ${hostname}\r\n\r\n`);
  const [chunk] = (await once(socket, "data")) as [Buffer];
  return /"backend":"(\w+)"/.exec(chunk.toString())?.[1] ?? chunk.toString();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-reload-"));
  pki = createPki(join(dir, "pki"));
  pki.issue("*.boot.test");
  ca = readFileSync(pki.rootFile);
  const cert = [join(pki.dir, "*.boot.test.pem"), join(pki.dir, "*.boot.test.key")] as const;
  one = await startTlsBackend("one", ...cert);
  two = await startTlsBackend("two", ...cert);
  port = await freePort();
  newPort = await freePort();
  proxy = await startProxy(join(dir, "proxy"), {
    bootstrap: routesFile([
      [
        port,
        [
          ["keep.boot.test", one],
          ["switch.boot.test", one],
          ["gone.boot.test", one],
        ],
      ],
    ]),
  });
});
afterAll(async () => {
  await proxy?.stop();
  await one?.close();
  await two?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SIGHUP", () => {
  it("applies the bootstrap file's changes, leaving unchanged routes and their connections alone", async () => {
    const before = (await proxy.client.listRoutes({})).routes;
    const keepId = before.find((r) => r.hostname === "keep.boot.test")?.id;
    const held = connect({ host: "127.0.0.1", port, servername: "keep.boot.test", ca });
    await once(held, "secureConnect");
    expect(await ask(held, "keep.boot.test")).toBe("one");

    writeFileSync(
      file(),
      routesFile([
        [
          port,
          [
            ["keep.boot.test", one],
            ["switch.boot.test", two],
            ["new.boot.test", two],
          ],
        ],
        [newPort, [["other.boot.test", two]]],
      ]),
    );
    proxy.app.child.kill("SIGHUP");
    // (The reload's summary is logged at info; the harness runs the proxy at warn.)
    await eventually(async () => expect(await answeredBy(newPort, "other.boot.test")).toBe("two"));
    expect(await answeredBy(port, "switch.boot.test")).toBe("two");
    expect(await answeredBy(port, "new.boot.test")).toBe("two");
    expect(await answeredBy(port, "gone.boot.test")).toMatch(/^failed/);
    // The unchanged route: same id, and the connection opened before the reload still works.
    const after = (await proxy.client.listRoutes({})).routes;
    expect(after.find((r) => r.hostname === "keep.boot.test")?.id).toBe(keepId);
    expect(await ask(held, "keep.boot.test")).toBe("one");
    held.destroy();
    expect(after.map((r) => r.hostname).sort()).toEqual([
      "keep.boot.test",
      "new.boot.test",
      "other.boot.test",
      "switch.boot.test",
    ]);
    expect(after.every((r) => r.bootstrap && r.notServed === "")).toBe(true);
  });

  it("changes nothing on a file with a mistake, and logs its file and line", async () => {
    const routes = (await proxy.client.listRoutes({})).routes.map((r) => r.id).sort();
    writeFileSync(
      file(),
      `[[listeners]]\naddr = ":${port}"\n  [[listeners.routes]]\n  hostname = "x.boot.test"\n  mode = "l9"\n`,
    );
    proxy.app.child.kill("SIGHUP");
    await eventually(async () => expect(proxy.app.stdout()).toContain("bootstrap file not reloaded"));
    expect(proxy.app.stdout()).toContain(`${file()}:5`);
    expect((await proxy.client.listRoutes({})).routes.map((r) => r.id).sort()).toEqual(routes);
    expect(await answeredBy(port, "keep.boot.test")).toBe("one");
  });
});
