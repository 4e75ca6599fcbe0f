// What a user checks a certificate with: the real `openssl` command and a real Node TLS handshake.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface OpensslResult {
  ok: boolean;
  output: string;
}

/** `openssl <args>`; a non-zero exit is a result (ok: false), not an exception. */
export async function openssl(...args: string[]): Promise<OpensslResult> {
  try {
    const { stdout, stderr } = await run("openssl", args);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message };
  }
}

/** Writes PEM texts to files in a fresh temporary directory; returns their paths and a cleanup. */
export function pemFiles(files: Record<string, string>): { paths: Record<string, string>; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "cert-broker-pem-"));
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], text);
  }
  return { paths, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `openssl verify` of a leaf against the root, with the chain's intermediates as untrusted helpers
 * (what a client receives from the server). Extra args go before the file (e.g. -crl_check).
 */
export async function opensslVerify(
  rootPem: string,
  chainPem: string,
  leafPem: string,
  extra: string[] = [],
  extraFiles: Record<string, string> = {},
): Promise<OpensslResult> {
  const f = pemFiles({ root: rootPem, chain: chainPem, leaf: leafPem, ...extraFiles });
  try {
    const resolved = extra.map((a) => (a.startsWith("@") ? (f.paths[a.slice(1)] ?? a) : a));
    return await openssl(
      "verify",
      "-purpose",
      "sslserver",
      "-CAfile",
      f.paths.root!,
      "-untrusted",
      f.paths.chain!,
      ...resolved,
      f.paths.leaf!,
    );
  } finally {
    f.cleanup();
  }
}

/**
 * A TLS server presenting `chainPem` with `keyPem`, and a client that trusts only `caPem` and checks
 * `servername` against the certificate: resolves with the protocol when the handshake succeeds.
 */
export async function tlsHandshake(opts: {
  chainPem: string;
  keyPem: string;
  caPem: string;
  servername: string;
}): Promise<string> {
  const server = tls.createServer({ cert: opts.chainPem, key: opts.keyPem }, (socket) => {
    socket.end("hello");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve, reject) => {
      const socket = tls.connect(
        { host: "127.0.0.1", port, ca: opts.caPem, servername: opts.servername },
        () => {
          const protocol = socket.getProtocol() ?? "";
          socket.end();
          resolve(protocol);
        },
      );
      socket.once("error", reject);
    });
  } finally {
    server.close();
  }
}
