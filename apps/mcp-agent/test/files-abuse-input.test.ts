// The hostile suite, part 1: paths, service names and lying headers.
// PushFile / PullFile as a hostile or careless client (or a container that owns the service's
// directory) would use them. After each case the agent must still answer a normal push and pull,
// no temporary `.push-*` file may be left anywhere, and nothing outside the service directory may
// have changed (helpers/files-abuse.ts). Cases that found a bug say so ("Was a bug"): each failed
// before its fix in files/.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { Code, type ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import {
  chunkMessage,
  fx,
  type Header,
  headerMessage,
  hello,
  MAX,
  pull,
  push,
  pushRaw,
  sha,
  useFilesAbuse,
  walk,
} from "./helpers/files-abuse.js";

useFilesAbuse("files-abuse-input");
// The fixture's files root, once it has started.
let srv: string;
beforeAll(() => {
  ({ srv } = fx);
});

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
  // than the name, so a valid name of 236..255 bytes fails (E"files-abuse-input"TOOLONG, seen as Internal "internal
  // error"). Fix: a short temporary name in the same directory, e.g. `.push-${randomBytes(6).hex}`.
  it("pushes a file whose name is 255 bytes long (the filesystem's limit)", async () => {
    const name = "n".repeat(255);
    expect(await push(name, Buffer.from("x"))).toMatchObject({ path: hello(name) });
  });

  // Was a bug, now fixed: a name over 255 bytes, a 4 KiB path, a directory in the way, a regular file as a parent:
  // the errno errors (E"files-abuse-input"TOOLONG, EISDIR, EEXIST/ENOTDIR) reach Connect unmapped, which answers
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
