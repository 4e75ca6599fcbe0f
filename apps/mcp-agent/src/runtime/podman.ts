// The container runtime: podman driven through its CLI with `--format json`. Every method names
// the container (or image, network) in its errors, with podman's own message. Works with the
// operator's podman setup as is: CONTAINERS_CONF and the rest of the environment pass through.

import {
  type ContainerInfo,
  type ContainerSummary,
  type InspectJson,
  type PsJson,
  readInspect,
  readSummary,
} from "./container-info.js";
import type { ContainerSpec } from "./container-spec.js";
import { PodmanError } from "./errors.js";
import { ContainerEventStream, type WatchOptions } from "./events.js";
import { PodmanCli } from "./podman-cli.js";
import { PrivateDir } from "./private-dir.js";
import { type RegistryAuth, registryOf } from "./registry-auth.js";

export interface PodmanOptions {
  /** Default "podman". */
  binary?: string;
  /** Credentials and CAs for private registries. */
  registryAuth?: RegistryAuth;
  /** Per-pull time limit (default 10 minutes). */
  pullTimeoutMs?: number;
}

export interface LogsOptions {
  /** Only the last n lines. */
  tail?: number;
}

export class Podman {
  readonly binary: string;
  readonly #cli: PodmanCli;
  readonly #auth: RegistryAuth | undefined;
  readonly #pullTimeoutMs: number;
  // Made on the first create: a Podman that only pulls or inspects leaves nothing behind.
  #envDir: PrivateDir | undefined;
  #envFiles = 0;

  constructor(options: PodmanOptions = {}) {
    this.binary = options.binary ?? "podman";
    this.#cli = new PodmanCli(this.binary);
    this.#auth = options.registryAuth;
    this.#pullTimeoutMs = options.pullTimeoutMs ?? 600_000;
  }

  /** podman's version ("4.3.1"). */
  async version(): Promise<string> {
    const out = await this.#cli.json<{ Client?: { Version?: string } }>(["version", "--format", "json"], {
      target: "version",
    });
    return out.Client?.Version ?? "unknown";
  }

  /** Creates the network when it does not exist (a concurrent create is fine). */
  async ensureNetwork(name: string): Promise<void> {
    if (name === "host" || name === "none" || name === "bridge" || name === "podman") return;
    const exists = await this.#cli.exec(["network", "exists", name], { target: name, okExitCodes: [1] });
    if (exists.exitCode === 0) return;
    try {
      await this.#cli.exec(["network", "create", name], { target: name });
    } catch (err) {
      if (!(err instanceof PodmanError && /already exists/i.test(err.podmanMessage))) throw err;
    }
  }

  async imageExists(image: string): Promise<boolean> {
    const result = await this.#cli.exec(["image", "exists", image], { target: image, okExitCodes: [1] });
    return result.exitCode === 0;
  }

  /** Pulls an image; a failure is PULL_FAILED naming the registry and podman's reason. */
  async pull(image: string): Promise<void> {
    const args = ["pull", "--quiet", ...(this.#auth?.argsFor(image) ?? []), image];
    try {
      await this.#cli.exec(args, { target: image, timeoutMs: this.#pullTimeoutMs });
    } catch (err) {
      if (!(err instanceof PodmanError)) throw err;
      const registry = registryOf(image);
      const credentials = this.#auth?.hasCredentials(image)
        ? "with the configured credentials"
        : "without credentials";
      throw new PodmanError(
        "PULL_FAILED",
        image,
        `pulling ${image} from registry ${registry} (${credentials}) failed: ${err.podmanMessage}`,
        err.podmanMessage,
      );
    }
  }

  /** Pulls the image unless it is present already. */
  async ensureImage(image: string): Promise<void> {
    if (!(await this.imageExists(image))) await this.pull(image);
  }

  /**
   * Creates a container (not started); returns its id. The image must be present (no implicit
   * pull: pulls go through `pull` with credentials). Environment values reach podman through an
   * env-file of mode 0600, not the command line.
   */
  async create(spec: ContainerSpec): Promise<string> {
    return this.#createOrRun("create", spec);
  }

  /** Creates and starts in one podman call (`run -d`); returns the container's id. */
  async runDetached(spec: ContainerSpec): Promise<string> {
    return this.#createOrRun("run", spec);
  }

  async #createOrRun(verb: "create" | "run", spec: ContainerSpec): Promise<string> {
    for (const [key, value] of Object.entries(spec.env)) {
      if (/[\r\n]/.test(value)) {
        throw new PodmanError(
          "FAILED",
          spec.name,
          `podman ${verb} ${spec.name}: env ${key} contains a line break`,
        );
      }
    }
    this.#envDir ??= new PrivateDir("mcp-agent-env");
    const envDir = this.#envDir;
    const envFile = envDir.write(
      `${spec.name}-${++this.#envFiles}.env`,
      Object.entries(spec.env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
    try {
      const args = createArgs(spec, envFile);
      if (verb === "run") args.splice(0, 1, "run", "--detach");
      const { stdout } = await this.#cli.exec(args, { target: spec.name });
      return stdout.trim().split("\n").pop() ?? "";
    } finally {
      envDir.remove(envFile.slice(envDir.path.length + 1));
    }
  }

  async start(name: string): Promise<void> {
    await this.#cli.exec(["start", name], { target: name });
  }

  /** Creates and starts; returns the container's id. */
  async run(spec: ContainerSpec): Promise<string> {
    const id = await this.create(spec);
    await this.start(spec.name);
    return id;
  }

  /** Renames a container (a new version takes `<service>-<component>` once the old one is gone). */
  async rename(name: string, newName: string): Promise<void> {
    await this.#cli.exec(["rename", name, newName], { target: name });
  }

  /** Stops a container: SIGTERM, then SIGKILL after timeoutS (default: the container's own). */
  async stop(name: string, timeoutS?: number): Promise<void> {
    const args = timeoutS === undefined ? ["stop", name] : ["stop", "--time", String(timeoutS), name];
    await this.#cli.exec(args, { target: name, timeoutMs: ((timeoutS ?? 10) + 60) * 1000 });
  }

  async restart(name: string, timeoutS?: number): Promise<void> {
    const args = timeoutS === undefined ? ["restart", name] : ["restart", "--time", String(timeoutS), name];
    await this.#cli.exec(args, { target: name, timeoutMs: ((timeoutS ?? 10) + 60) * 1000 });
  }

  /**
   * Removes a container, stopping it first if it runs (timeoutS before SIGKILL, default 0: the
   * caller stops gracefully beforehand when it matters). Returns false when there was none.
   */
  async remove(name: string, timeoutS = 0): Promise<boolean> {
    try {
      // With --force podman exits 0 for a missing container too; it prints the names it removed.
      const { stdout } = await this.#cli.exec(["rm", "--force", "--time", String(timeoutS), name], {
        target: name,
        timeoutMs: (timeoutS + 60) * 1000,
      });
      return stdout.trim() !== "";
    } catch (err) {
      if (err instanceof PodmanError && err.code === "NOT_FOUND") return false;
      throw err;
    }
  }

  /** A container's details; undefined when podman has none of that name or id. */
  async inspect(name: string): Promise<ContainerInfo | undefined> {
    const result = await this.#cli.exec(["container", "inspect", "--format", "json", name], {
      target: name,
      okExitCodes: [125],
    });
    if (result.exitCode !== 0) {
      if (/no such (container|object)/i.test(result.stderr)) return undefined;
      throw new PodmanError("FAILED", name, `podman inspect ${name}: ${result.stderr.trim()}`);
    }
    const [raw] = JSON.parse(result.stdout) as InspectJson[];
    return raw && readInspect(raw);
  }

  /** Containers (running or not) carrying every given label. */
  async list(labels: Record<string, string> = {}): Promise<ContainerSummary[]> {
    const filters = Object.entries(labels).flatMap(([k, v]) => ["--filter", `label=${k}=${v}`]);
    const raw = await this.#cli.json<PsJson[] | null>(["ps", "--all", "--format", "json", ...filters], {
      target: "containers",
    });
    return (raw ?? []).map(readSummary).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** What the container wrote to stdout and stderr. */
  async logs(name: string, options: LogsOptions = {}): Promise<{ stdout: string; stderr: string }> {
    const args = ["logs", ...(options.tail === undefined ? [] : ["--tail", String(options.tail)]), name];
    const { stdout, stderr } = await this.#cli.exec(args, { target: name });
    return { stdout, stderr };
  }

  /** Follows container events; close() the stream to stop. */
  watch(options: WatchOptions = {}): ContainerEventStream {
    return new ContainerEventStream(this.binary, options);
  }

  /** Removes the private directory of env-files. */
  close(): void {
    this.#envDir?.close();
    this.#envDir = undefined;
  }
}

function createArgs(spec: ContainerSpec, envFile: string): string[] {
  const args = ["create", "--name", spec.name, "--pull", "never"];
  for (const [key, value] of Object.entries(spec.labels)) args.push("--label", `${key}=${value}`);
  args.push("--network", spec.network, "--user", spec.user, "--restart", spec.restart);
  if (spec.stopTimeoutS !== undefined) args.push("--stop-timeout", String(spec.stopTimeoutS));
  for (const volume of spec.volumes) args.push("--volume", volume);
  args.push("--env-file", envFile);
  for (const p of spec.publish) {
    const host = `${p.hostIp ? `${p.hostIp.includes(":") ? `[${p.hostIp}]` : p.hostIp}:` : ""}${p.hostPort ?? ""}`;
    args.push("--publish", `${host ? `${host}:` : ""}${p.containerPort}/${p.protocol}`);
  }
  args.push(spec.image, ...spec.cmd);
  return args;
}
