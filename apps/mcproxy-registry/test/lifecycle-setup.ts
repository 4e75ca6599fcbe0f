// Helpers for lifecycle.test.ts: HTTPS requests through the proxy from this process (hundreds of
// them: a curl process each would dominate the run time), a real ClientHello to send in halves,
// and the listening sockets on a port as the kernel lists them.
import { execFile } from "node:child_process";
import { once } from "node:events";
import type { Agent } from "node:https";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { promisify } from "node:util";
import { httpsGet } from "./harness.js";

const run = promisify(execFile);

export interface Answer {
  status: number;
  body: string;
}

/** One GET (SNI `hostname`; a new TLS connection unless `agent` keeps some), settled in `timeoutMs` or rejected. */
export function get(
  port: number,
  hostname: string,
  ca: Buffer,
  { agent, timeoutMs = 5_000 }: { agent?: Agent; timeoutMs?: number } = {},
): Promise<Answer> {
  return httpsGet(port, hostname, { ca, agent, timeoutMs });
}

/** The backend name in an echo backend's answer, or the status and body when it is not a 200. */
export async function servedBy(port: number, hostname: string, ca: Buffer, agent?: Agent): Promise<string> {
  const r = await get(port, hostname, ca, { agent });
  return r.status === 200 ? (JSON.parse(r.body) as { backend: string }).backend : `${r.status} ${r.body}`;
}

/** Runs `fn` over `items`, `width` at a time; resolves with the results in order. */
export async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width)
    results.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return results;
}

/** The ClientHello a real TLS client sends for `servername`, captured by a throwaway server. */
export async function clientHello(servername: string): Promise<Buffer> {
  const server = createNetServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const captured = new Promise<Buffer>((resolve) => {
    server.once("connection", (socket) => {
      let bytes = Buffer.alloc(0);
      socket.on("data", (c: Buffer) => {
        bytes = Buffer.concat([bytes, c]);
        // One handshake record: 5 bytes of header, then its length.
        if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt16BE(3)) {
          socket.destroy();
          resolve(bytes);
        }
      });
    });
  });
  const client = tlsConnect({ port: (server.address() as AddressInfo).port, host: "127.0.0.1", servername });
  client.on("error", () => {});
  const hello = await captured;
  client.destroy();
  server.close();
  return hello;
}

/** How many sockets listen on `port` (ss), whoever owns them. */
export async function listenersOn(port: number): Promise<number> {
  const { stdout } = await run("ss", ["-Hltn", `sport = :${port}`]);
  return stdout.split("\n").filter((line) => line.trim() !== "").length;
}
