// Test certificates made by the real openssl: a root CA, an intermediate, and EC P-256 leaves whose
// .pem holds the leaf and the intermediate (as cert-broker writes them), so a client that trusts
// only the root verifies the whole chain.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

export interface Pki {
  dir: string;
  rootFile: string;
  /** Issues `<dir>/<hostname>.pem` (leaf + intermediate) and `.key`; returns the serial (hex). */
  issue(hostname: string, dir?: string): string;
}

export function createPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const p = (name: string) => join(dir, name);
  const ext = p("ca.ext");
  writeFileSync(ext, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("root.key"),
    "-out",
    p("root.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=Test Root",
  );
  openssl("req", ...ec, "-keyout", p("int.key"), "-out", p("int.csr"), "-subj", "/CN=Test Intermediate");
  openssl(
    "x509",
    "-req",
    "-in",
    p("int.csr"),
    "-CA",
    p("root.pem"),
    "-CAkey",
    p("root.key"),
    "-CAcreateserial",
    "-out",
    p("int.pem"),
    "-days",
    "2",
    "-extfile",
    ext,
  );
  return {
    dir,
    rootFile: p("root.pem"),
    issue(hostname, outDir = dir) {
      const leafExt = p(`${hostname}.ext`);
      writeFileSync(
        leafExt,
        `subjectAltName=DNS:${hostname}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
      );
      const key = join(outDir, `${hostname}.key`);
      openssl(
        "req",
        ...ec,
        "-keyout",
        p(`${hostname}.tmpkey`),
        "-out",
        p(`${hostname}.csr`),
        "-subj",
        `/CN=${hostname}`,
      );
      openssl(
        "x509",
        "-req",
        "-in",
        p(`${hostname}.csr`),
        "-CA",
        p("int.pem"),
        "-CAkey",
        p("int.key"),
        "-CAcreateserial",
        "-out",
        p(`${hostname}.leaf`),
        "-days",
        "2",
        "-extfile",
        leafExt,
      );
      // Written complete, then renamed, as a renewal would: a reader never sees half a file.
      writeFileSync(`${key}.new`, readFileSync(p(`${hostname}.tmpkey`)), { mode: 0o600 });
      writeFileSync(
        `${key.replace(/\.key$/, ".pem")}.new`,
        Buffer.concat([readFileSync(p(`${hostname}.leaf`)), readFileSync(p("int.pem"))]),
      );
      execFileSync("mv", ["-f", `${key}.new`, key]);
      execFileSync("mv", ["-f", `${key.replace(/\.key$/, ".pem")}.new`, key.replace(/\.key$/, ".pem")]);
      const serial = openssl("x509", "-in", p(`${hostname}.leaf`), "-noout", "-serial").toString();
      return serial.trim().replace(/^serial=/, "");
    },
  };
}
