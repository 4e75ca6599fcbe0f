// The hostile suite, part 2: symlinks, special files and races with the container.
// PushFile / PullFile as a hostile or careless client (or a container that owns the service's
// directory) would use them. After each case the agent must still answer a normal push and pull,
// no temporary `.push-*` file may be left anywhere, and nothing outside the service directory may
// have changed (helpers/files-abuse.ts). Cases that found a bug say so ("Was a bug"): each failed
// before its fix in files/.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
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
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import {
  chunkMessage,
  flipper,
  fx,
  headerMessage,
  hello,
  IDLE_TIMEOUT_MS,
  pull,
  push,
  pushRaw,
  sha,
  stop,
  useFilesAbuse,
} from "./helpers/files-abuse.js";
import type { FilesAgent } from "./helpers/files-agent.js";

useFilesAbuse("files-abuse-races");
// The fixture's folders (and client), once it has started.
let srv: string;
let outside: string;
let client: FilesAgent["client"];
beforeAll(() => {
  ({ srv, outside, client } = fx);
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
  it("a client that stalls after its header, or mid-file, is cut after idle_timeout_ms; nothing is left", async () => {
    const old = randomBytes(100_000);
    await push("stall.bin", old);
    const data = randomBytes(150_000);
    for (const sent of [0, 64 * 1024]) {
      const started = Date.now();
      const stream = (async function* () {
        yield headerMessage("stall.bin", data);
        if (sent > 0) yield chunkMessage(data.subarray(0, sent));
        await new Promise(() => {}); // connected, and silent from here
      })();
      const result = await pushRaw(stream, new AbortController().signal);
      expect(result).toMatchObject({ code: Code.DeadlineExceeded });
      expect((result as ConnectError).rawMessage).toBe(
        `PushFile: nothing received for ${IDLE_TIMEOUT_MS} ms; the push is abandoned`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
      await until(() => !readdirSync(hello()).some((f) => f.startsWith(".push-")));
      expect(readFileSync(hello("stall.bin")).equals(old)).toBe(true);
    }
  }, 20_000);
});

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
