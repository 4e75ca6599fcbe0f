// A directory only this process's user can read (0700), for files that must not reach a command
// line or another user: registry credentials (authfile) and containers' environment (env-file).
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const OWNER_FILE = ".owner-pid";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class PrivateDir {
  readonly path: string;

  constructor(prefix: string, parent = tmpdir()) {
    this.path = mkdtempSync(join(parent, `${prefix}-`)); // mkdtemp makes it 0700
    chmodSync(this.path, 0o700);
    writeFileSync(join(this.path, OWNER_FILE), String(process.pid), { mode: 0o600 });
  }

  /**
   * Removes the directories of agents that died without cleaning up (kill -9): those with this
   * prefix whose owner process is gone. Run at start-up, so credentials do not linger in /tmp.
   */
  static sweepStale(prefix: string, parent = tmpdir()): string[] {
    const removed: string[] = [];
    for (const name of readdirSync(parent)) {
      if (!name.startsWith(`${prefix}-`)) continue;
      const dir = join(parent, name);
      let pid: number;
      try {
        pid = Number(readFileSync(join(dir, OWNER_FILE), "utf8"));
      } catch {
        continue; // not ours, or not a private dir
      }
      if (pid > 0 && pid !== process.pid && !alive(pid)) {
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    }
    return removed;
  }

  /** Writes a file of mode 0600 (created with that mode: never readable by others, even briefly). */
  write(name: string, content: string | Buffer): string {
    const file = join(this.path, name);
    writeFileSync(file, content, { mode: 0o600 });
    chmodSync(file, 0o600); // an existing file keeps its old mode on write
    return file;
  }

  /** Makes a 0700 subdirectory holding the given 0600 files; returns its path. */
  mkdir(name: string, files: Record<string, string>): string {
    const sub = join(this.path, name);
    mkdirSync(sub, { mode: 0o700 });
    for (const [file, content] of Object.entries(files))
      writeFileSync(join(sub, file), content, { mode: 0o600 });
    return sub;
  }

  remove(name: string): void {
    rmSync(join(this.path, name), { force: true });
  }

  close(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
