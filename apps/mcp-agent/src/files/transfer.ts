// PushFile and PullFile as plain streams of bytes: a push is written to a temporary file in the
// target directory, checked (size, SHA-256), then renamed into place, so a broken upload leaves
// the old file; a pull reads in 64 KiB chunks.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

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

export async function writeFileFromChunks(
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
  await mkdir(dirname(target), { recursive: true, mode: 0o750 });
  const temp = `${target}.push-${process.pid}-${Date.now()}`;
  const file = await open(temp, "wx", header.mode || 0o644);
  const hash = createHash("sha256");
  let size = 0;
  try {
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
    await file.close();
    await rename(temp, target);
    return { path: target, size, sha256 };
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

export interface FileInfo {
  size: number;
  mode: number;
  modifyTime: Date;
  sha256: string;
}

export async function describeFile(path: string, shown: string): Promise<FileInfo> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new TransferError("NOT_FOUND", `${shown}: no such file`);
  }
  if (!info.isFile()) throw new TransferError("INVALID_ARGUMENT", `${shown} is not a regular file`);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { size: info.size, mode: info.mode & 0o7777, modifyTime: info.mtime, sha256: hash.digest("hex") };
}

export async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) yield chunk as Buffer;
}
