// A real private image registry for tests: Debian's docker-registry (distribution 2.8) with
// htpasswd (bcrypt) auth and TLS from a CA made here with openssl, on a free port. The packages
// are installed with apt when missing (docker-registry, apache2-utils for htpasswd).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl, freePort } from "@mcp/mcdsl/testing";

export interface ImageRegistry {
  /** "127.0.0.1:<port>" as it appears in image references. */
  host: string;
  caFile: string;
  /** A podman --cert-dir holding the CA (for the test's own push). */
  certDir: string;
  dir: string;
  stop(): Promise<void>;
}

function has(binary: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs docker-registry and htpasswd with apt when missing (as root, or with sudo -n). */
export function ensureRegistryPackages(): void {
  const missing = [
    ...(has("docker-registry") ? [] : ["docker-registry"]),
    ...(has("htpasswd") ? [] : ["apache2-utils"]),
  ];
  if (missing.length === 0) return;
  const apt = ["apt-get", "install", "-y", "--no-install-recommends", ...missing];
  const [command, ...args] = process.getuid?.() === 0 ? apt : ["sudo", "-n", ...apt];
  execFileSync(command!, args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Starts a registry; users maps user name → password (stored bcrypt-hashed). */
export async function startImageRegistry(users: Record<string, string>): Promise<ImageRegistry> {
  ensureRegistryPackages();
  const dir = mkdtempSync(join(tmpdir(), "mcp-agent-registry-"));
  const port = await freePort();
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=mcp-agent test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  openssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  writeFileSync(
    join(dir, "san.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "server.pem",
  );
  const htpasswd = Object.entries(users)
    .map(([user, password]) =>
      execFileSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" }).trim(),
    )
    .join("\n");
  writeFileSync(join(dir, "htpasswd"), `${htpasswd}\n`);
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: ${dir}/data } }
http:
  addr: 127.0.0.1:${port}
  tls: { certificate: ${dir}/server.pem, key: ${dir}/server.key }
auth:
  htpasswd: { realm: mcp-agent-test, path: ${dir}/htpasswd }
`,
  );
  const certDir = join(dir, "certs");
  mkdirSync(certDir);
  writeFileSync(join(certDir, "ca.crt"), execFileSync("cat", [join(dir, "ca.pem")]));

  let stderr = "";
  const child: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    const answer = await curl("--cacert", join(dir, "ca.pem"), `https://127.0.0.1:${port}/v2/`).catch(
      () => undefined,
    );
    if (answer?.status === 401) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `127.0.0.1:${port}`, caFile: join(dir, "ca.pem"), certDir, dir, stop };
}

/** Pushes a local image to the registry as `target` with the given user (test-side podman). */
export function pushImage(
  registry: ImageRegistry,
  local: string,
  target: string,
  user: string,
  password: string,
): void {
  const authFile = join(registry.dir, "push-auth.json");
  writeFileSync(
    authFile,
    JSON.stringify({
      auths: { [registry.host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } },
    }),
    { mode: 0o600 },
  );
  execFileSync("podman", ["tag", local, target], { stdio: "ignore" });
  try {
    execFileSync(
      "podman",
      ["push", "--quiet", "--authfile", authFile, "--cert-dir", registry.certDir, target],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
  } finally {
    execFileSync("podman", ["rmi", target], { stdio: "ignore" });
  }
}
