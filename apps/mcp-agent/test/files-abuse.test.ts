// PushFile / PullFile as a hostile or careless client (or a container that owns the service's
// directory) would use them: odd paths, symlinks, special files, lying headers, races. After each
// case the agent must still answer a normal push and pull, no temporary `*.push-*` file may be
// left anywhere, and nothing outside the service directory may have changed.
// Cases that found a bug say so ("Was a bug"): each failed before its fix in files/.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AppProcess } from "@mcp/mcdsl/testing";
import { type PushFileRequest, PushFileRequestSchema } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FilesAgent, startFilesAgent } from "./helpers/files-agent.js";

const MAX = 200_000;
let dir: string;
let srv: string;
let outside: string;
let agent: AppProcess;
let client: FilesAgent["client"];

beforeAll(async () => {
  ({ dir, srv, agent, client } = await startFilesAgent("files-abuse", MAX));
  outside = join(dir, "outside");
  mkdirSync(join(srv, "hello"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "not for you\n");
}, 30_000);

afterAll(async () => {
  await agent?.stop(3000);
  rmSync(dir, { recursive: true, force: true });
});

// After every case: the agent answers a normal round trip, no temporary file is left, and the
// files outside the root are as they were.
afterEach(async () => {
  const data = randomBytes(70_000);
  expect(await push("canary.bin", data, { service: "canary" })).not.toBeInstanceOf(ConnectError);
  expect(await pull("canary.bin", "canary")).toMatchObject({ data });
  expect(walk(dir).filter((f) => f.includes(".push-"))).toEqual([]);
  expect(readdirSync(outside).sort()).toEqual(["secret"]);
  expect(readFileSync(join(outside, "secret"), "utf8")).toBe("not for you\n");
});

interface Header {
  service?: string;
  mode?: number;
  size?: number | bigint;
  sha256?: string;
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const hello = (...parts: string[]) => join(srv, "hello", ...parts);

function headerMessage(path: string, data: Buffer, h: Header = {}): PushFileRequest {
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

const chunkMessage = (data: Uint8Array) =>
  create(PushFileRequestSchema, { content: { case: "chunk", value: data } });

async function* messages(path: string, data: Buffer, h: Header = {}) {
  yield headerMessage(path, data, h);
  for (let i = 0; i < data.length; i += 64 * 1024) yield chunkMessage(data.subarray(i, i + 64 * 1024));
}

function push(path: string, data: Buffer, h: Header = {}) {
  return pushRaw(messages(path, data, h));
}

function pushRaw(stream: AsyncIterable<PushFileRequest>, signal?: AbortSignal) {
  return client.pushFile(stream, { signal }).catch((e: unknown) => ConnectError.from(e));
}

async function pull(path: string, service = "hello", timeoutMs = 5000) {
  try {
    let header: { size: bigint; sha256: string; mode: number } | undefined;
    const parts: Buffer[] = [];
    for await (const m of client.pullFile({ service, path }, { timeoutMs })) {
      if (m.content.case === "header") header = m.content.value;
      if (m.content.case === "chunk") parts.push(Buffer.from(m.content.value));
    }
    return { header, data: Buffer.concat(parts) };
  } catch (e) {
    return ConnectError.from(e);
  }
}

/** Every path under `top`, symlinks not followed. */
function walk(top: string): string[] {
  return readdirSync(top).flatMap((name) => {
    const path = join(top, name);
    return lstatSync(path).isDirectory() ? [path, ...walk(path)] : [path];
  });
}

/**
 * A child process (the container's side) that keeps swapping `name` between the two prepared
 * entries `name.a` and `name.b` for `ms`; resolves once it is swapping.
 */
async function flipper(base: string, name: string, ms: number): Promise<ChildProcess> {
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

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill();
    await exited;
  }
}

describe("paths", () => {
  it("refuses empty, '.', '..', absolute and NUL paths with InvalidArgument naming the path", async () => {
    for (const path of ["", ".", "./", "..", "a/..", "/etc/x", "a\0b"]) {
      const err = await push(path, Buffer.from("x"));
      expect([path, err]).toMatchObject([path, { code: Code.InvalidArgument }]);
      expect((err as ConnectError).message).toContain("path");
      expect(await pull(path)).toMatchObject({ code: Code.InvalidArgument });
    }
    expect(walk(hello())).toEqual([]);
  });

  it("normalizes 'a//b' and 'a/./b', and keeps unicode and newline names byte for byte", async () => {
    for (const [path, lands] of [
      ["a//b", "a/b"],
      ["a/./c", "a/c"],
      ["ünï/日本語.txt", "ünï/日本語.txt"],
      ["new\nline", "new\nline"],
    ] as const) {
      const data = Buffer.from(path);
      expect(await push(path, data)).toMatchObject({ path: hello(lands) });
      expect(readFileSync(hello(lands)).equals(data)).toBe(true);
      expect(await pull(path)).toMatchObject({ data });
    }
  });

  // Was a bug, now fixed: the trailing slash is dropped (resolve() in files/paths.ts:23), so "conf/" writes a FILE
  // named conf: the operator asked for a directory. Refuse a path ending in "/".
  it("refuses a path with a trailing slash (it names a directory)", async () => {
    expect(await push("conf/", Buffer.from("x"))).toMatchObject({ code: Code.InvalidArgument });
    expect(existsSync(hello("conf"))).toBe(false);
  });

  // Was a bug, now fixed: the temporary file is `${target}.push-<pid>-<ms>` (files/transfer.ts:47), ~20 bytes longer
  // than the name, so a valid name of 236..255 bytes fails (ENAMETOOLONG, seen as Internal "internal
  // error"). Fix: a short temporary name in the same directory, e.g. `.push-${randomBytes(6).hex}`.
  it("pushes a file whose name is 255 bytes long (the filesystem's limit)", async () => {
    const name = "n".repeat(255);
    expect(await push(name, Buffer.from("x"))).toMatchObject({ path: hello(name) });
  });

  // Was a bug, now fixed: a name over 255 bytes, a 4 KiB path, a directory in the way, a regular file as a parent:
  // the errno errors (ENAMETOOLONG, EISDIR, EEXIST/ENOTDIR) reach Connect unmapped, which answers
  // Internal "internal error" and the operator cannot tell what is wrong: toConnect
  // (api/files.ts:93) maps only its own errors. Fix: map those codes to InvalidArgument naming the
  // path ("adir is a directory", "plain is not a directory", "name too long").
  it("names what is wrong when the path cannot be a file: too long, a directory, under a file", async () => {
    mkdirSync(hello("adir", "inner"), { recursive: true });
    writeFileSync(hello("plain"), "plain\n");
    const deep = `${"d".repeat(200)}/`.repeat(21); // 4221 bytes: over PATH_MAX
    for (const path of ["x".repeat(256), `${deep}f`, "adir", "plain/child"]) {
      const err = await push(path, Buffer.from("x"));
      expect([path.slice(0, 20), err]).toMatchObject([path.slice(0, 20), { code: Code.InvalidArgument }]);
      expect((err as ConnectError).message).toContain(path.slice(0, 20));
    }
    expect(readFileSync(hello("plain"), "utf8")).toBe("plain\n");
    expect(readdirSync(hello("adir"))).toEqual(["inner"]);
  });

  it("refuses to pull a directory or through a regular file, and changes nothing", async () => {
    mkdirSync(hello("pdir"), { recursive: true });
    writeFileSync(hello("pfile"), "p\n");
    expect(await pull("pdir")).toMatchObject({
      code: Code.InvalidArgument,
      message: /pdir is not a regular file/,
    });
    expect(await pull("pfile/child")).toMatchObject({ code: Code.NotFound });
    expect(await pull("missing")).toMatchObject({ code: Code.NotFound, message: /missing: no such file/ });
    expect(await pull("x", "nodir")).toMatchObject({ code: Code.NotFound });
  });
});

describe("symlinks", () => {
  // Was a bug, now fixed: servicePath (files/paths.ts:28-32) checks only the parent's real path, and pull's stat and
  // read follow the last component (files/transfer.ts:97,103,108): a container that owns the directory
  // can `ln -s /etc/shadow leak` and the agent (root) hands the file out. Fix: open with O_NOFOLLOW
  // (or realpath the full path, not only its parent, and compare with the base).
  it("does not pull through a last-component symlink that leads outside", async () => {
    symlinkSync(join(outside, "secret"), hello("leak"));
    const got = await pull("leak");
    expect(got).toBeInstanceOf(ConnectError);
    expect(got).toMatchObject({ code: Code.InvalidArgument });
  });

  it("pushes over a last-component symlink by replacing the link, never writing through it", async () => {
    symlinkSync(join(outside, "secret"), hello("over"));
    symlinkSync(join(outside, "not-yet"), hello("dangling"));
    for (const path of ["over", "dangling"]) {
      expect(await push(path, Buffer.from("mine\n"))).toMatchObject({ path: hello(path) });
      expect(lstatSync(hello(path)).isFile()).toBe(true);
      expect(readFileSync(hello(path), "utf8")).toBe("mine\n");
    }
    // afterEach: outside/ still holds only its secret, unchanged.
  });

  it("pulls neither a dangling symlink nor /dev/zero, nor through a directory symlink to another service", async () => {
    symlinkSync(join(outside, "gone"), hello("dangle"));
    symlinkSync("/dev/zero", hello("zero"));
    mkdirSync(join(srv, "other"), { recursive: true });
    writeFileSync(join(srv, "other", "theirs"), "theirs\n");
    symlinkSync(join(srv, "other"), hello("to-other"));
    // A final symlink is never followed (one leading outside would leak the file): the pull names it.
    expect(await pull("dangle")).toMatchObject({ code: Code.InvalidArgument, message: /symbolic link/ });
    expect(await pull("zero", "hello", 3000)).toMatchObject({ code: Code.InvalidArgument });
    expect(await pull("to-other/theirs")).toMatchObject({ code: Code.InvalidArgument, message: /symlink/ });
    expect(await push("to-other/theirs", Buffer.from("x"))).toMatchObject({ code: Code.InvalidArgument });
    expect(readFileSync(join(srv, "other", "theirs"), "utf8")).toBe("theirs\n");
  });

  it("follows a symlink inside the service directory that stays inside, and a service directory the operator linked", async () => {
    mkdirSync(hello("real"), { recursive: true });
    symlinkSync("real", hello("alias"));
    expect(await push("alias/f", Buffer.from("via alias\n"))).toMatchObject({ path: hello("alias", "f") });
    expect(readFileSync(hello("real", "f"), "utf8")).toBe("via alias\n");
    // The operator made srv/linked -> srv/hello: the service directory itself is trusted.
    symlinkSync(hello(), join(srv, "linked"));
    expect(await pull("real/f", "linked")).toMatchObject({ data: Buffer.from("via alias\n") });
  });

  // Was a bug (race), now fixed: the symlink check (files/paths.ts:28-32) runs before mkdir/open/rename
  // (files/transfer.ts:46-78), which resolve the path again. A container swapping a directory for a
  // symlink in between gets the operator's file (or its temporary file) written outside the service
  // directory. Fix: open the temporary file, then check realpath(`/proc/self/fd/<fd>`) is under the
  // base before writing; rename with the directory checked again (or via a dir fd) afterwards.
  it("writes nothing outside while a container swaps a directory for a symlink to outside", async () => {
    const base = hello();
    mkdirSync(join(base, "swap.a"));
    symlinkSync(outside, join(base, "swap.b"));
    const flip = await flipper(base, "swap", 5000);
    try {
      // Eight pushes at a time for up to 3 s; the first hit usually comes within 30 pushes.
      for (const end = Date.now() + 3000; Date.now() < end && readdirSync(outside).length === 1; ) {
        await Promise.all([...Array(8).keys()].map((k) => push(`swap/x${k}`, Buffer.from("x"))));
      }
      expect(readdirSync(outside)).toEqual(["secret"]);
    } finally {
      await stop(flip);
      for (const f of readdirSync(outside)) if (f !== "secret") rmSync(join(outside, f));
      rmSync(join(base, "swap"), { force: true, recursive: true });
      for (const f of readdirSync(base)) if (f.startsWith("swap")) rmSync(join(base, f), { recursive: true });
    }
  });
});

describe("special files", () => {
  it("refuses to pull a FIFO without hanging", async () => {
    execFileSync("mkfifo", [hello("pipe")]);
    const started = Date.now();
    expect(await pull("pipe", "hello", 3000)).toMatchObject({
      code: Code.InvalidArgument,
      message: /not a regular file/,
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  // Was a bug (race), now fixed: describeFile stats the path, then opens it again to hash it, and readChunks opens it
  // a third time (files/transfer.ts:97,103,108); a FIFO swapped in between blocks a libuv thread in
  // open() forever (4 such pulls freeze every fs call of the agent). Fix: open once with
  // O_RDONLY|O_NOFOLLOW|O_NONBLOCK, fstat that fd (regular file?), hash and stream from it.
  it("answers every pull while a container swaps a file for a FIFO", async () => {
    const base = hello();
    writeFileSync(join(base, "f.a"), "file\n");
    execFileSync("mkfifo", [join(base, "f.b")]);
    const flip = await flipper(base, "f", 5000);
    let hung = 0;
    try {
      for (const end = Date.now() + 3000; Date.now() < end && hung === 0; ) {
        const got = await pull("f", "hello", 1000);
        if (got instanceof ConnectError && got.code === Code.DeadlineExceeded) hung++;
      }
    } finally {
      await stop(flip);
      // Release the agent's blocked open(): a writer that opens and closes the FIFO.
      for (const name of ["f", "f.a", "f.b"]) {
        const path = join(base, name);
        if (existsSync(path) && lstatSync(path).isFIFO())
          for (let k = 0; k < 8; k++) {
            try {
              closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
            } catch {
              break; // ENXIO: no reader left
            }
          }
        rmSync(path, { force: true });
      }
    }
    expect(hung).toBe(0);
  });

  // Was a bug, now fixed: the header's size and SHA-256 come from one read of the file and the bytes from a second,
  // unbounded one (files/transfer.ts:103,108), so a file that grows during a pull (a log) is sent
  // with more bytes than its header says and `mcp pull` always refuses it. Fix: read from the fd
  // that was hashed, at most `size` bytes (createReadStream({ fd, start: 0, end: size - 1 })).
  it("streams exactly what the header describes while the file is appended to", async () => {
    const first = randomBytes(1024 * 1024);
    writeFileSync(hello("growing.log"), first);
    let header: { size: bigint; sha256: string } | undefined;
    const parts: Buffer[] = [];
    for await (const m of client.pullFile({ service: "hello", path: "growing.log" })) {
      if (m.content.case === "header") {
        header = m.content.value;
        appendFileSync(hello("growing.log"), randomBytes(300_000));
      }
      if (m.content.case === "chunk") parts.push(Buffer.from(m.content.value));
    }
    const got = Buffer.concat(parts);
    expect(header?.size).toBe(BigInt(first.length));
    expect(got.length).toBe(first.length);
    expect(sha(got)).toBe(header?.sha256);
  });
});

describe("headers", () => {
  it("accepts an empty file (size 0, no chunks) and an upper-case SHA-256", async () => {
    expect(await push("empty", Buffer.alloc(0))).toMatchObject({ size: 0n, sha256: sha(Buffer.alloc(0)) });
    expect(statSync(hello("empty")).size).toBe(0);
    const data = Buffer.from("upper\n");
    expect(await push("upper", data, { sha256: sha(data).toUpperCase() })).toMatchObject({ size: 6n });
  });

  it("refuses lying headers with DataLoss/ResourceExhausted, keeping the old file whole", async () => {
    const old = randomBytes(100_000);
    await push("keep.bin", old);
    const data = randomBytes(90_000);
    const cases: [Header, Code, RegExp][] = [
      [{ size: 95_000 }, Code.DataLoss, /got 90000 bytes, the header said 95000/],
      [{ size: 80_000 }, Code.DataLoss, /more bytes than the header's size 80000/],
      [{ size: MAX + 1 }, Code.ResourceExhausted, /over the limit of 200000/],
      [{ size: 2n ** 64n - 1n }, Code.ResourceExhausted, /over the limit/],
      [{ sha256: "00".repeat(32) }, Code.DataLoss, /does not match/],
      [{ sha256: "abc" }, Code.DataLoss, /does not match the header's abc/],
    ];
    for (const [h, code, message] of cases) {
      expect([h, await push("keep.bin", data, h)]).toMatchObject([h, { code, message }]);
      expect(readFileSync(hello("keep.bin")).equals(old)).toBe(true);
    }
  });

  it("refuses an empty stream, chunks before the header and a second header", async () => {
    const empty = (async function* () {})();
    expect(await pushRaw(empty)).toMatchObject({ code: Code.InvalidArgument, message: /first .* header/ });
    const chunkFirst = (async function* () {
      yield chunkMessage(Buffer.from("x"));
    })();
    expect(await pushRaw(chunkFirst)).toMatchObject({
      code: Code.InvalidArgument,
      message: /first .* header/,
    });
    const twoHeaders = (async function* () {
      yield headerMessage("two", Buffer.from("x"));
      yield headerMessage("two", Buffer.from("x"));
    })();
    expect(await pushRaw(twoHeaders)).toMatchObject({
      code: Code.InvalidArgument,
      message: /only the first/,
    });
    expect(existsSync(hello("two"))).toBe(false);
  });

  it("gives mode 0 the default 0644", async () => {
    await push("mode0", Buffer.from("x"), { mode: 0 });
    expect(statSync(hello("mode0")).mode & 0o7777).toBe(0o644);
  });

  // Was a bug, now fixed: the mode is only open()'s creation mode (files/transfer.ts:48): the agent's umask (022)
  // takes group/other write away (0660 lands as 0640), and setuid/setgid/sticky bits pass through
  // (0o4755 makes a setuid file, as root). Fix: refuse mode > 0o777 (InvalidArgument), and
  // `await file.chmod(mode)` after open so the umask does not apply.
  it("lands exactly the permission bits asked for, and refuses setuid/sticky bits", async () => {
    await push("shared", Buffer.from("x"), { mode: 0o660 });
    expect(statSync(hello("shared")).mode & 0o7777).toBe(0o660);
    for (const mode of [0o4755, 0o1777, 0o2755]) {
      expect(await push(`special-${mode.toString(8)}`, Buffer.from("x"), { mode })).toMatchObject({
        code: Code.InvalidArgument,
      });
    }
  });
});

describe("service names", () => {
  it("refuses upper case, dots, slashes and over 63 characters, naming the service", async () => {
    for (const service of ["Hello", "..", ".hidden", "a/b", "", "-x", "x".repeat(64), "hello\n"]) {
      const err = await push("f", Buffer.from("x"), { service });
      expect([service, err]).toMatchObject([
        service,
        { code: Code.InvalidArgument, message: /service name/ },
      ]);
      expect(await pull("f", service)).toMatchObject({ code: Code.InvalidArgument });
    }
    expect(await push("f", Buffer.from("x"), { service: "x".repeat(63) })).toMatchObject({ size: 1n });
    expect(readdirSync(srv).filter((n) => n.startsWith("."))).toEqual([]);
  });
});

describe("concurrency", () => {
  // Was a bug, now fixed: the temporary name is `${target}.push-${pid}-${Date.now()}` (files/transfer.ts:47): two
  // pushes of one path in the same millisecond collide, and the second fails with EEXIST from
  // open(.., "wx") (Internal "internal error"). Fix: a random suffix (randomBytes(6)).
  it("two pushes of one path at once both succeed and the file is one of them, whole", async () => {
    for (let round = 0; round < 10; round++) {
      const a = randomBytes(150_000);
      const b = randomBytes(150_000);
      const [ra, rb] = await Promise.all([push("race.bin", a), push("race.bin", b)]);
      expect([ra, rb].filter((r) => r instanceof ConnectError)).toEqual([]);
      const now = readFileSync(hello("race.bin"));
      expect(now.equals(a) || now.equals(b)).toBe(true);
    }
  });

  it("a pull during a replacing push sees the old or the new file, consistent with its header", async () => {
    const old = randomBytes(150_000);
    await push("swap.bin", old);
    for (let round = 0; round < 5; round++) {
      const next = randomBytes(150_000);
      const [pulled, pushed] = await Promise.all([pull("swap.bin"), push("swap.bin", next)]);
      expect(pushed).not.toBeInstanceOf(ConnectError);
      if (pulled instanceof ConnectError) throw pulled;
      expect(pulled.data.length).toBe(Number(pulled.header?.size));
      expect(sha(pulled.data)).toBe(pulled.header?.sha256);
    }
  });

  it("a client that disconnects mid-upload leaves no temporary file and the old file whole", async () => {
    const old = randomBytes(100_000);
    await push("cut.bin", old);
    const data = randomBytes(150_000);
    const abort = new AbortController();
    const stream = (async function* () {
      yield headerMessage("cut.bin", data);
      yield chunkMessage(data.subarray(0, 64 * 1024));
      await new Promise(() => {}); // never sends the rest
    })();
    const result = pushRaw(stream, abort.signal);
    await until(() => readdirSync(hello()).some((f) => f.startsWith(".push-")));
    abort.abort();
    expect(await result).toMatchObject({ code: Code.Canceled });
    await until(() => !readdirSync(hello()).some((f) => f.startsWith(".push-")));
    expect(readFileSync(hello("cut.bin")).equals(old)).toBe(true);
  });
});

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
