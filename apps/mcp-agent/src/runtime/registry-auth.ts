// Credentials for private image registries (the seeds' "MCR auth for mcp user"). They come from
// files named in the agent's config (mode 0600: a readable secret is refused), and reach podman
// only through an `--authfile` in a 0700 directory of the agent's, never on a command line where
// `ps` would show them. A registry's CA goes through `--cert-dir` for that registry's pulls.
import { readFileSync, statSync } from "node:fs";
import type { PrivateDir } from "./private-dir.js";

export interface RegistryConfig {
  /** "registry.example.org" or "host:port", as it appears in image references. */
  host: string;
  /** With password_file; with token_file, defaults to "token". */
  username?: string;
  /** A file holding the password (mode 0600). */
  passwordFile?: string;
  /** A file holding an access token, sent as the password (mode 0600). */
  tokenFile?: string;
  /** A PEM CA bundle the registry's TLS certificate chains to. */
  caFile?: string;
  /** Plain HTTP or unverified TLS (test registries only). */
  insecure?: boolean;
}

export class RegistryAuthError extends Error {
  readonly code = "REGISTRY_AUTH";
  constructor(message: string) {
    super(message);
    this.name = "RegistryAuthError";
  }
}

/** The registry part of an image reference, by docker's rule ("docker.io" when there is none). */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

export class RegistryAuth {
  readonly #registries = new Map<string, RegistryConfig>();
  readonly #authFile: string | undefined;
  readonly #certDirs = new Map<string, string>();

  constructor(registries: RegistryConfig[], dir: PrivateDir) {
    const auths: Record<string, { auth: string }> = {};
    for (const registry of registries) {
      if (this.#registries.has(registry.host)) {
        throw new RegistryAuthError(`registry ${registry.host} is configured twice`);
      }
      this.#registries.set(registry.host, registry);
      const secret = readSecret(registry);
      if (secret)
        auths[registry.host] = {
          auth: Buffer.from(`${secret.username}:${secret.password}`).toString("base64"),
        };
      if (registry.caFile) {
        // podman reads every *.crt of a --cert-dir: each registry gets a directory of its own.
        this.#certDirs.set(
          registry.host,
          dir.mkdir(`certs-${this.#certDirs.size}`, { "ca.crt": readCa(registry) }),
        );
      }
    }
    this.#authFile =
      Object.keys(auths).length > 0 ? dir.write("auth.json", JSON.stringify({ auths })) : undefined;
  }

  /** The registries with credentials (for logs: names only). */
  get hosts(): string[] {
    return [...this.#registries.keys()];
  }

  /** podman pull/push arguments for an image of this registry. */
  argsFor(image: string): string[] {
    const host = registryOf(image);
    const args: string[] = [];
    if (this.#authFile) args.push("--authfile", this.#authFile);
    const certDir = this.#certDirs.get(host);
    if (certDir) args.push("--cert-dir", certDir);
    if (this.#registries.get(host)?.insecure) args.push("--tls-verify=false");
    return args;
  }

  /** Whether credentials are configured for the image's registry (for error messages). */
  hasCredentials(image: string): boolean {
    const registry = this.#registries.get(registryOf(image));
    return Boolean(registry?.passwordFile || registry?.tokenFile);
  }
}

function readSecret(registry: RegistryConfig): { username: string; password: string } | undefined {
  if (registry.passwordFile && registry.tokenFile) {
    throw new RegistryAuthError(`registry ${registry.host}: set password_file or token_file, not both`);
  }
  const file = registry.passwordFile ?? registry.tokenFile;
  if (!file) return undefined;
  if (registry.passwordFile && !registry.username) {
    throw new RegistryAuthError(`registry ${registry.host}: password_file needs a username`);
  }
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new RegistryAuthError(`registry ${registry.host}: cannot read ${file}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new RegistryAuthError(
      `registry ${registry.host}: ${file} has mode ${(mode & 0o777).toString(8)}; ` +
        "a credential file must be readable by its owner only (chmod 600)",
    );
  }
  const password = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  if (password === "") throw new RegistryAuthError(`registry ${registry.host}: ${file} is empty`);
  return { username: registry.username ?? "token", password };
}

function readCa(registry: RegistryConfig): string {
  try {
    return readFileSync(registry.caFile!, "utf8");
  } catch (err) {
    throw new RegistryAuthError(
      `registry ${registry.host}: cannot read ca_file ${registry.caFile}: ${(err as Error).message}`,
    );
  }
}
