// The key and certificate files on disk. Each certificate's key is kept under the data directory as
// keys/<serial>.key (0600) and written before its database row, so a row always has its key. The
// current certificate of each hostname is published for mc-proxy and containers as
// <cert_dir>/<hostname>.pem (leaf), .key (0600) and .chain.pem (leaf + intermediates), each file
// replaced atomically.
import { existsSync, lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BrokerError } from "../broker/errors.js";
import { removeStrayTemporaries, replaceFilesAtomic, syncDirectory, writeFileAtomic } from "./atomic-file.js";
import { readRegularFile } from "./read-regular.js";

/** Linux's limit on one file name (bytes; hostnames are ASCII). */
const NAME_MAX = 255;
const CHAIN = ".chain.pem";
/** The longest hostname whose <hostname>.chain.pem fits in a file name. */
const MAX_PUBLISHED_NAME = NAME_MAX - CHAIN.length;

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
      chainFile: join(this.certDir, `${hostname}${CHAIN}`),
    };
  }

  saveKey(serial: string, keyPem: string): void {
    writeFileAtomic(this.#keyPath(serial), keyPem, 0o600);
  }

  readKey(serial: string): string | undefined {
    return readRegularFile(this.#keyPath(serial));
  }

  deleteKey(serial: string): void {
    rmSync(this.#keyPath(serial), { force: true });
  }

  /** Serials that have a key file (only <hex>.key files: anything else there is not the broker's). */
  keySerials(): string[] {
    if (!existsSync(this.keysDir)) return [];
    return readdirSync(this.keysDir, { withFileTypes: true })
      .filter((e) => /^[0-9a-f]+\.key$/.test(e.name) && !e.isDirectory())
      .map((e) => e.name.slice(0, -4));
  }

  /**
   * Replaces one hostname's files, all three or none (replaceFilesAtomic), each whole; the key goes
   * first so a reader that finds the new leaf finds its key too. Readers reload on mcp.cert.*.
   */
  publishHostname(hostname: string, cert: Publishable, keyPem: string): void {
    this.checkPublishable([hostname]);
    const p = this.paths(hostname);
    try {
      replaceFilesAtomic([
        { path: p.keyFile, data: keyPem, mode: 0o600 },
        { path: p.chainFile, data: cert.chainPem },
        { path: p.certFile, data: cert.certPem },
      ]);
    } catch (err) {
      throw new BrokerError(
        "failed-precondition",
        `publishing "${hostname}" in ${this.certDir} failed, its previous files are unchanged: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Refuses, before anything is issued, what publishing could not do: a name too long for its file
   * names (InvalidArgument), or a directory where a file goes (FailedPrecondition naming the path).
   * A symlink, FIFO or stale file there is replaced by the rename, never written through.
   */
  checkPublishable(hostnames: string[]): void {
    for (const hostname of hostnames) {
      if (hostname.length > MAX_PUBLISHED_NAME) {
        throw new BrokerError(
          "invalid-argument",
          `hostname "${hostname}" is ${hostname.length} characters; its file ${hostname}${CHAIN} would exceed ` +
            `the ${NAME_MAX} bytes of a file name, so cert-broker publishes names of at most ${MAX_PUBLISHED_NAME}`,
        );
      }
      for (const path of Object.values(this.paths(hostname))) {
        let isDirectory: boolean | undefined;
        try {
          isDirectory = lstatSync(path, { throwIfNoEntry: false })?.isDirectory();
        } catch (err) {
          // e.g. ENOTDIR: cert_dir itself is not a directory
          throw new BrokerError(
            "failed-precondition",
            `cannot publish "${hostname}" in cert_dir ${this.certDir}: ${(err as Error).message}`,
          );
        }
        if (isDirectory) {
          throw new BrokerError(
            "failed-precondition",
            `${path} is a directory where the certificate file for "${hostname}" goes; remove it`,
          );
        }
      }
    }
  }

  /** Whether `hostname`'s published files hold this certificate and its key (as regular files). */
  isPublished(hostname: string, cert: Publishable, keyPem: string): boolean {
    const p = this.paths(hostname);
    return (
      readRegularFile(p.certFile) === cert.certPem &&
      readRegularFile(p.chainFile) === cert.chainPem &&
      readRegularFile(p.keyFile) === keyPem
    );
  }

  /**
   * Removes those of `hostname`'s files that still hold this certificate or its key; a newer
   * certificate's files, or anything else found there, stay. Without the key (a superseded
   * certificate's copy in keys_dir is gone), the key file goes when the leaf beside it is this one:
   * the two are written together.
   */
  unpublish(hostname: string, cert: Publishable, keyPem: string | undefined): number {
    const p = this.paths(hostname);
    const holdsLeaf = readRegularFile(p.certFile) === cert.certPem;
    const ours = [
      holdsLeaf && p.certFile,
      readRegularFile(p.chainFile) === cert.chainPem && p.chainFile,
      (keyPem === undefined ? holdsLeaf : readRegularFile(p.keyFile) === keyPem) && p.keyFile,
    ].filter((f): f is string => typeof f === "string");
    for (const file of ours) rmSync(file, { force: true });
    if (ours.length > 0) syncDirectory(this.certDir);
    return ours.length;
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
