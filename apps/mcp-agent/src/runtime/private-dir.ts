// A directory only this process's user can read (0700), for files that must not reach a command
// line or another user: registry credentials (authfile) and containers' environment (env-file).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class PrivateDir {
  readonly path: string;

  constructor(prefix: string, parent = tmpdir()) {
    this.path = mkdtempSync(join(parent, `${prefix}-`)); // mkdtemp makes it 0700
    chmodSync(this.path, 0o700);
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
