// The fixture of the hostile file-transfer suites (files-abuse-*.test.ts): the agent, a service
// directory "hello", a folder outside the root with a secret in it, and raw push/pull helpers.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { AppProcess } from "@mcp/mcdsl/testing";
import { type PushFileRequest, PushFileRequestSchema } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type FilesAgent, startFilesAgent } from "./files-agent.js";

export const MAX = 200_000;
/** The agent's folder, its files root, and a folder outside the root a container must never reach. */
export const fx = { dir: "", srv: "", outside: "" } as {
  dir: string;
  srv: string;
  outside: string;
  client: FilesAgent["client"];
};
let agent: AppProcess;
/** The agent's [files] idle_timeout_ms here: short enough to wait for, long for a pushing client. */
export const IDLE_TIMEOUT_MS = 3000;

/**
 * Starts the agent for one hostile suite and checks, after every case, that it still answers a
 * normal round trip, that no temporary file is left and that nothing outside the root changed.
 */
export function useFilesAbuse(name: string): void {
  beforeAll(async () => {
    const started = await startFilesAgent(name, MAX, IDLE_TIMEOUT_MS);
    agent = started.agent;
    Object.assign(fx, {
      dir: started.dir,
      srv: started.srv,
      client: started.client,
      outside: join(started.dir, "outside"),
    });
    mkdirSync(join(fx.srv, "hello"), { recursive: true });
    mkdirSync(fx.outside);
    writeFileSync(join(fx.outside, "secret"), "not for you\n");
  }, 30_000);

  afterAll(async () => {
    await agent?.stop(3000);
    rmSync(fx.dir, { recursive: true, force: true });
  });

  // After every case: the agent answers a normal round trip, no temporary file is left, and the
  // files outside the root are as they were.
  afterEach(async () => {
    const data = randomBytes(70_000);
    expect(await push("canary.bin", data, { service: "canary" })).not.toBeInstanceOf(ConnectError);
    expect(await pull("canary.bin", "canary")).toMatchObject({ data });
    expect(walk(fx.dir).filter((f) => f.includes(".push-"))).toEqual([]);
    expect(readdirSync(fx.outside).sort()).toEqual(["secret"]);
    expect(readFileSync(join(fx.outside, "secret"), "utf8")).toBe("not for you\n");
  });
}

export interface Header {
  service?: string;
  mode?: number;
  size?: number | bigint;
  sha256?: string;
}

export const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
export const hello = (...parts: string[]) => join(fx.srv, "hello", ...parts);

export function headerMessage(path: string, data: Buffer, h: Header = {}): PushFileRequest {
  return create(PushFileRequestSchema, {
    content: {
      case: "header",
      value: {
        service: h.service ?? "hello",
        path,
        mode: h.mode ?? 0o640,
        size: BigInt(h.size ?? data.length),
        sha256: h.sha256 ?? sha(data),
      },
    },
  });
}

export const chunkMessage = (data: Uint8Array) =>
  create(PushFileRequestSchema, { content: { case: "chunk", value: data } });

export async function* messages(path: string, data: Buffer, h: Header = {}) {
  yield headerMessage(path, data, h);
  for (let i = 0; i < data.length; i += 64 * 1024) yield chunkMessage(data.subarray(i, i + 64 * 1024));
}

export function push(path: string, data: Buffer, h: Header = {}) {
  return pushRaw(messages(path, data, h));
}

export function pushRaw(stream: AsyncIterable<PushFileRequest>, signal?: AbortSignal) {
  return fx.client.pushFile(stream, { signal }).catch((e: unknown) => ConnectError.from(e));
}

export async function pull(path: string, service = "hello", timeoutMs = 5000) {
  try {
    let header: { size: bigint; sha256: string; mode: number } | undefined;
    const parts: Buffer[] = [];
    for await (const m of fx.client.pullFile({ service, path }, { timeoutMs })) {
      if (m.content.case === "header") header = m.content.value;
      if (m.content.case === "chunk") parts.push(Buffer.from(m.content.value));
    }
    return { header, data: Buffer.concat(parts) };
  } catch (e) {
    return ConnectError.from(e);
  }
}

/** Every path under `top`, symlinks not followed. */
export function walk(top: string): string[] {
  return readdirSync(top).flatMap((name) => {
    const path = join(top, name);
    return lstatSync(path).isDirectory() ? [path, ...walk(path)] : [path];
  });
}

/**
 * A child process (the container's side) that keeps swapping `name` between the two prepared
 * entries `name.a` and `name.b` for `ms`; resolves once it is swapping.
 */
export async function flipper(base: string, name: string, ms: number): Promise<ChildProcess> {
  const script = `
    const { renameSync } = require("node:fs");
    const [base, name, ms] = process.argv.slice(1);
    const p = (n) => base + "/" + n;
    const end = Date.now() + Number(ms);
    process.stdout.write("swapping\\n");
    while (Date.now() < end) {
      for (const [park, take] of [["a", "b"], ["b", "a"]]) {
        try { renameSync(p(name), p(name + "." + park)); } catch {}
        try { renameSync(p(name + "." + take), p(name)); } catch {}
      }
    }`;
  const child = spawn(process.execPath, ["-e", script, base, name, String(ms)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((r) => child.stdout?.once("data", r));
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill();
    await exited;
  }
}
