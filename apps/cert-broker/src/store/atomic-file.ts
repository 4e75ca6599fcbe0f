// Files other programs read (mc-proxy, containers) are replaced whole: written to a temporary file in
// the same directory, flushed to disk, then renamed over the old one. A reader sees the old file or the
// new one, never half of either, and a crash leaves at most a stray temporary file (removed at start).
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { failpoint } from "../broker/failpoint.js";

const TMP_MARK = ".tmp-";

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Shortened, so the temporary's name fits where the final one just does (255 bytes).
  const tmp = join(dir, `.${basename(path).slice(0, 200)}${TMP_MARK}${randomBytes(6).toString("hex")}`);
  // The mode is set at creation, so a key is never readable by others, not even for a moment.
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
    failpoint("mid-write");
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true }); // e.g. a directory in the way: leave no temporary behind
    throw err;
  }
  syncDirectory(dir);
}

/** Makes a rename or unlink in `dir` durable. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes temporary files a crash left in `dir`; returns their names. */
export function removeStrayTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  // Only files: a directory with such a name is not one of ours (and must not stop a start).
  const stray = names.filter(
    (n) => n.startsWith(".") && n.includes(TMP_MARK) && !lstatSync(join(dir, n)).isDirectory(),
  );
  for (const name of stray) rmSync(join(dir, name), { force: true });
  return stray;
}
