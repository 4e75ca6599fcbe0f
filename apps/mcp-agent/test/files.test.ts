// PushFile / PullFile against the real agent: a file pushed in chunks lands whole (mode, size,
// SHA-256) and pulls back the same; a wrong checksum, a path leaving the service directory (by
// "..", absolutely or through a symlink) and an oversized file are refused and change nothing.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AppProcess } from "@mcp/mcdsl/testing";
import { type PushFileRequest, PushFileRequestSchema } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FilesAgent, startFilesAgent } from "./helpers/files-agent.js";

let dir: string;
let agent: AppProcess;
let client: FilesAgent["client"];

beforeAll(async () => {
  ({ dir, agent, client } = await startFilesAgent("files", 200_000));
}, 30_000);

afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function* messages(
  path: string,
  data: Buffer,
  header: { size?: number; sha256?: string; mode?: number; service?: string } = {},
) {
  yield create(PushFileRequestSchema, {
    content: {
      case: "header",
      value: {
        service: header.service ?? "hello",
        path,
        mode: header.mode ?? 0o600,
        size: BigInt(header.size ?? data.length),
        sha256: header.sha256 ?? "",
      },
    },
  });
  for (let i = 0; i < data.length; i += 64 * 1024) {
    yield create(PushFileRequestSchema, {
      content: { case: "chunk", value: data.subarray(i, i + 64 * 1024) },
    });
  }
}

const push = (stream: AsyncIterable<PushFileRequest>) =>
  client.pushFile(stream).catch((e: unknown) => ConnectError.from(e));

describe("file transfer", () => {
  const data = randomBytes(150_000);
  const sha256 = createHash("sha256").update(data).digest("hex");

  it("pushes a file in chunks and pulls it back", async () => {
    const res = await client.pushFile(messages("config/app.key", data, { sha256 }));
    const file = join(dir, "srv", "hello", "config", "app.key");
    expect(res).toMatchObject({ path: file, size: 150_000n, sha256 });
    expect(readFileSync(file).equals(data)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const parts: Buffer[] = [];
    let header: { size: bigint; sha256: string; mode: number } | undefined;
    for await (const m of client.pullFile({ service: "hello", path: "config/app.key" })) {
      if (m.content.case === "header") header = m.content.value;
      if (m.content.case === "chunk") parts.push(Buffer.from(m.content.value));
    }
    expect(header).toMatchObject({ size: 150_000n, sha256, mode: 0o600 });
    expect(parts.length).toBeGreaterThan(1);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it("pushes a service's first file while its directory does not exist yet (the root does, as /srv)", async () => {
    // The first test made the root; these services have no directory until their first file.
    for (const [service, path] of [
      ["fresh", "top.txt"],
      ["fresher", "nested/deeper/file.txt"],
    ] as const) {
      const data = Buffer.from(`${service}\n`);
      const res = await client.pushFile(messages(path, data, { service }));
      expect(res.path).toBe(join(dir, "srv", service, path));
      expect(readFileSync(join(dir, "srv", service, path), "utf8")).toBe(`${service}\n`);
    }
  });

  it("refuses a wrong checksum, a short upload, escaping paths and an oversized file, changing nothing", async () => {
    expect(
      await push(messages("config/app.key", randomBytes(1000), { sha256: "00".repeat(32) })),
    ).toMatchObject({
      code: Code.DataLoss,
    });
    expect(await push(messages("config/app.key", randomBytes(1000), { size: 2000 }))).toMatchObject({
      code: Code.DataLoss,
    });
    expect(readFileSync(join(dir, "srv", "hello", "config", "app.key")).equals(data)).toBe(true); // old file kept

    for (const path of ["../other/x", "/etc/passwd", "a/../../x"]) {
      const err = await push(messages(path, Buffer.from("x")));
      expect(err).toMatchObject({ code: Code.InvalidArgument });
    }
    mkdirSync(join(dir, "outside"));
    symlinkSync(join(dir, "outside"), join(dir, "srv", "hello", "link"));
    const viaLink = await push(messages("link/evil", Buffer.from("x")));
    expect(viaLink).toMatchObject({ code: Code.InvalidArgument });
    expect((viaLink as ConnectError).message).toContain("through a symlink");

    expect(await push(messages("big.bin", randomBytes(250_000)))).toMatchObject({
      code: Code.ResourceExhausted,
    });
    const missing = await (async () => {
      for await (const _ of client.pullFile({ service: "hello", path: "nope" })) {
        // nothing
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect(missing).toMatchObject({ code: Code.NotFound });
  });
});
