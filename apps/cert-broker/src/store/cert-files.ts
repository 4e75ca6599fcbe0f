// The key and certificate files on disk. Each certificate's key is kept under the data directory as
// keys/<serial>.key (0600) and written before its database row, so a row always has its key. The
// current certificate of each hostname is published for mc-proxy and containers as
// <cert_dir>/<hostname>.pem (leaf), .key (0600) and .chain.pem (leaf + intermediates), each file
// replaced atomically.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { removeStrayTemporaries, syncDirectory, writeFileAtomic } from "./atomic-file.js";

export interface PublishedPaths {
  certFile: string;
  keyFile: string;
  chainFile: string;
}

export interface Publishable {
  serial: string;
  hostnames: string[];
  certPem: string;
  chainPem: string;
}

export class CertFiles {
  constructor(
    private readonly keysDir: string,
    private readonly certDir: string,
  ) {}

  paths(hostname: string): PublishedPaths {
    return {
      certFile: join(this.certDir, `${hostname}.pem`),
      keyFile: join(this.certDir, `${hostname}.key`),
      chainFile: join(this.certDir, `${hostname}.chain.pem`),
    };
  }

  saveKey(serial: string, keyPem: string): void {
    writeFileAtomic(this.#keyPath(serial), keyPem, 0o600);
  }

  readKey(serial: string): string | undefined {
    try {
      return readFileSync(this.#keyPath(serial), "utf8");
    } catch {
      return undefined;
    }
  }

  deleteKey(serial: string): void {
    rmSync(this.#keyPath(serial), { force: true });
  }

  /** Serials that have a key file. */
  keySerials(): string[] {
    if (!existsSync(this.keysDir)) return [];
    return readdirSync(this.keysDir)
      .filter((n) => n.endsWith(".key") && !n.startsWith("."))
      .map((n) => n.slice(0, -4));
  }

  /** Replaces every hostname's files with this certificate (see publishHostname). */
  publish(cert: Publishable, keyPem: string): void {
    for (const hostname of cert.hostnames) this.publishHostname(hostname, cert, keyPem);
  }

  /**
   * Replaces one hostname's files. Each file is replaced whole; the key goes first so a reader that
   * finds the new leaf finds its key too. Readers reload on mcp.cert.*.
   */
  publishHostname(hostname: string, cert: Publishable, keyPem: string): void {
    const p = this.paths(hostname);
    writeFileAtomic(p.keyFile, keyPem, 0o600);
    writeFileAtomic(p.chainFile, cert.chainPem);
    writeFileAtomic(p.certFile, cert.certPem);
  }

  /** Whether `hostname`'s published files hold this certificate and its key. */
  isPublished(hostname: string, cert: Publishable, keyPem: string): boolean {
    const p = this.paths(hostname);
    const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : undefined);
    return (
      read(p.certFile) === cert.certPem && read(p.chainFile) === cert.chainPem && read(p.keyFile) === keyPem
    );
  }

  /** Removes `hostname`'s files if they still hold this certificate (a newer one may have replaced them). */
  unpublish(hostname: string, cert: Publishable): void {
    const p = this.paths(hostname);
    if (!existsSync(p.certFile) || readFileSync(p.certFile, "utf8") !== cert.certPem) return;
    rmSync(p.certFile, { force: true });
    rmSync(p.chainFile, { force: true });
    rmSync(p.keyFile, { force: true });
    syncDirectory(this.certDir);
  }

  /** Removes temporary files a crash left behind; returns how many. */
  removeStrayTemporaries(): number {
    return removeStrayTemporaries(this.keysDir).length + removeStrayTemporaries(this.certDir).length;
  }

  #keyPath(serial: string): string {
    if (!/^[0-9a-f]+$/.test(serial)) throw new Error(`serial ${JSON.stringify(serial)} is not hex`);
    return join(this.keysDir, `${serial}.key`);
  }
}
