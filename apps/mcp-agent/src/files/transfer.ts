// PushFile and PullFile as plain streams of bytes. A push is written to a temporary file in the
// target directory, checked (size, SHA-256), then renamed into place, so a broken upload leaves
// the old file. A pull opens the file once and works on that handle only.
//
// The service directory is shared with the service's containers, which can change it while the
// agent (root) works in it: a symlink swapped in must never make the agent read or write outside
// it. So a pull opens without following a final symlink and checks where the opened file really
// is; a push checks where its temporary file really is before writing a byte, and the directory
// again before the rename.
import { createHash, randomBytes } from "node:crypto";
import { constants, realpathSync } from "node:fs";
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join, sep } from "node:path";

export const CHUNK_BYTES = 64 * 1024;

export class TransferError extends Error {
  readonly code: "DATA_LOSS" | "NOT_FOUND" | "RESOURCE_EXHAUSTED" | "INVALID_ARGUMENT";

  constructor(code: TransferError["code"], message: string) {
    super(message);
    this.name = "TransferError";
    this.code = code;
  }
}

export interface PushHeader {
  path: string;
  mode: number;
  size: number;
  sha256?: string;
}

export interface Pushed {
  path: string;
  size: number;
  sha256: string;
}

/** Filesystem refusals a client caused, said in its terms (the path it gave), not as EISDIR. */
function explain(err: unknown, shown: string): unknown {
  const reasons: Record<string, string> = {
    ENAMETOOLONG: `${shown}: a name in the path is longer than the filesystem allows (255 bytes)`,
    EISDIR: `${shown} is a directory`,
    ENOTDIR: `${shown}: a part of the path is a file, not a directory`,
    EEXIST: `${shown}: a part of the path is a file, not a directory`,
    ELOOP: `${shown} is a symbolic link (or leads through too many)`,
  };
  const reason = reasons[(err as NodeJS.ErrnoException).code ?? ""];
  return reason ? new TransferError("INVALID_ARGUMENT", reason) : err;
}

/** Where an open file really is (Linux): its path through /proc, every symlink resolved. */
function whereOpened(file: FileHandle): string {
  return realpathSync(`/proc/self/fd/${file.fd}`);
}

function inside(path: string, realBase: string): boolean {
  return path === realBase || path.startsWith(realBase + sep);
}

/** The service directory's real path (an operator may have made it a symlink: that is followed). */
function realDirectory(base: string): string {
  try {
    return realpathSync(base);
  } catch {
    return base;
  }
}

export async function writeFileFromChunks(
  base: string,
  target: string,
  header: PushHeader,
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<Pushed> {
  if (header.size > maxBytes) {
    throw new TransferError(
      "RESOURCE_EXHAUSTED",
      `${header.path}: ${header.size} bytes is over the limit of ${maxBytes}`,
    );
  }
  if (header.mode > 0o777) {
    throw new TransferError(
      "INVALID_ARGUMENT",
      `${header.path}: mode ${header.mode.toString(8)} has bits beyond rwx (setuid, setgid, sticky): only 0 to 777`,
    );
  }
  const mode = header.mode || 0o644;
  // A short random name: two pushes of one path at once do not collide, and a name at the
  // filesystem's 255-byte limit still has a temporary sibling.
  const temp = join(dirname(target), `.push-${randomBytes(6).toString("hex")}`);
  let file: FileHandle | undefined;
  try {
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    file = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (err) {
    await file?.close().catch(() => undefined);
    throw explain(err, header.path);
  }
  const realBase = realDirectory(base);
  // Where the temporary file really is: removed by this path if anything fails, so that one made
  // outside through a swapped symlink is not left there when the directory is swapped back.
  const created = whereOpened(file);
  const hash = createHash("sha256");
  let size = 0;
  try {
    if (!inside(created, realBase)) {
      throw new TransferError(
        "INVALID_ARGUMENT",
        `path ${header.path} leaves the service directory through a symlink`,
      );
    }
    // The bits asked for, whatever the agent's umask.
    await file.chmod(mode);
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > header.size || size > maxBytes) {
        throw new TransferError(
          "DATA_LOSS",
          `${header.path}: more bytes than the header's size ${header.size}`,
        );
      }
      hash.update(chunk);
      await file.write(chunk);
    }
    if (size !== header.size) {
      throw new TransferError(
        "DATA_LOSS",
        `${header.path}: got ${size} bytes, the header said ${header.size}`,
      );
    }
    const sha256 = hash.digest("hex");
    if (header.sha256 && header.sha256.toLowerCase() !== sha256) {
      throw new TransferError(
        "DATA_LOSS",
        `${header.path}: SHA-256 ${sha256} does not match the header's ${header.sha256}`,
      );
    }
    await file.sync();
    // The directory again: it may have been swapped for a symlink while the bytes came in.
    if (!inside(whereOpened(file), realBase)) {
      throw new TransferError(
        "INVALID_ARGUMENT",
        `path ${header.path} leaves the service directory through a symlink`,
      );
    }
    await file.close();
    await rename(temp, target).catch((err: unknown) => {
      throw explain(err, header.path);
    });
    return { path: target, size, sha256 };
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(created, { force: true });
    throw err;
  }
}

export interface FileInfo {
  size: number;
  mode: number;
  modifyTime: Date;
  sha256: string;
}

/** A file opened once for a pull: described, hashed and streamed from this one handle. */
export interface PullSource {
  info: FileInfo;
  /** Exactly `info.size` bytes from the start, in chunks of 64 KiB at most. */
  chunks(): AsyncGenerator<Uint8Array>;
  close(): Promise<void>;
}

export async function openForPull(base: string, path: string, shown: string): Promise<PullSource> {
  let file: FileHandle;
  try {
    // No final symlink followed; O_NONBLOCK so that a FIFO swapped in cannot block the open.
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR")
      throw new TransferError("NOT_FOUND", `${shown}: no such file`);
    if (code === "ELOOP") {
      throw new TransferError("INVALID_ARGUMENT", `${shown} is a symbolic link: name the file it points to`);
    }
    throw explain(err, shown);
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new TransferError("INVALID_ARGUMENT", `${shown} is not a regular file`);
    if (!inside(whereOpened(file), realDirectory(base))) {
      throw new TransferError(
        "INVALID_ARGUMENT",
        `path ${shown} leaves the service directory through a symlink`,
      );
    }
    const size = stat.size;
    const read = async function* (): AsyncGenerator<Uint8Array> {
      // What the header says, even if the file grows meanwhile (a log being written).
      for (let at = 0; at < size; ) {
        const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - at));
        const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) return; // truncated meanwhile: the client sees a short file
        at += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    };
    const hash = createHash("sha256");
    for await (const chunk of read()) hash.update(chunk);
    return {
      info: { size, mode: stat.mode & 0o7777, modifyTime: stat.mtime, sha256: hash.digest("hex") },
      chunks: read,
      close: () => file.close(),
    };
  } catch (err) {
    await file.close().catch(() => undefined);
    throw err;
  }
}
