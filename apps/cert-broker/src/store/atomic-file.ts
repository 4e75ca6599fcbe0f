// Files other programs read (mc-proxy, containers) are replaced whole: written to a temporary file in
// the same directory, flushed to disk, then renamed over the old one. A reader sees the old file or the
// new one, never half of either, and a crash leaves at most a stray temporary file (removed at start).
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
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
  replaceFilesAtomic([{ path, data, mode }]);
}

export interface FileContent {
  path: string;
  data: string;
  /** Set at creation, so a key is never readable by others, not even for a moment. */
  mode?: number;
}

/**
 * Replaces files that belong together (a key and its certificate), in order, so that either all
 * are replaced or none is. Everything that can fail for lack of space or permission happens before
 * the first rename: each new file is written and fsynced as a temporary, and each old one kept as a
 * hard link (a file that cannot be replaced cannot be linked either, e.g. an immutable one). Should
 * a rename still fail, the ones done are undone from those links.
 */
export function replaceFilesAtomic(files: FileContent[]): void {
  const staged: { path: string; tmp: string; backup?: string }[] = [];
  const done: typeof staged = [];
  try {
    for (const file of files) staged.push({ path: file.path, tmp: writeTemporary(file) });
    for (const entry of staged) {
      if (lstatSync(entry.path, { throwIfNoEntry: false })) {
        entry.backup = temporaryName(entry.path);
        linkSync(entry.path, entry.backup);
      }
    }
    for (const entry of staged) {
      renameSync(entry.tmp, entry.path);
      done.push(entry);
    }
  } catch (err) {
    for (const entry of done.reverse()) {
      if (entry.backup) renameSync(entry.backup, entry.path);
      else rmSync(entry.path, { force: true });
    }
    for (const entry of staged) {
      rmSync(entry.tmp, { force: true });
      if (entry.backup) rmSync(entry.backup, { force: true });
    }
    throw err;
  }
  for (const entry of staged) if (entry.backup) rmSync(entry.backup, { force: true });
  for (const dir of new Set(staged.map((e) => dirname(e.path)))) syncDirectory(dir);
}

/** A temporary name beside `path`; shortened, so it fits where the final name just does (255 bytes). */
function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path).slice(0, 200)}${TMP_MARK}${randomBytes(6).toString("hex")}`);
}

function writeTemporary(file: FileContent): string {
  mkdirSync(dirname(file.path), { recursive: true, mode: 0o755 });
  const tmp = temporaryName(file.path);
  const fd = openSync(tmp, "wx", file.mode ?? 0o644);
  try {
    writeSync(fd, file.data);
    fsyncSync(fd);
    failpoint("mid-write");
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  return tmp;
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
