// Running the built images the way an operator (or the agent) does: real `podman run` with volumes,
// published ports or the host network, and the helpers the tests share to wait on them.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export const REPO = new URL("../../../../", import.meta.url).pathname.replace(/\/$/, "");

/** Every test container's name starts with this, so a crashed run's leftovers can be found. */
export const PREFIX = "mcpt-img-";

/** `localhost/mcp/<app>:<version of apps/<app>/package.json>`, as images/build.sh tags it. */
export function appImage(app: string): string {
  const { version } = JSON.parse(readFileSync(`${REPO}/apps/${app}/package.json`, "utf8")) as {
    version: string;
  };
  return `localhost/mcp/${app}:${version}`;
}

/** Runs podman; a non-zero exit throws with podman's stderr. */
export async function podman(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec("podman", args, { maxBuffer: 16 << 20, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Exit code of a podman command (for commands whose failure is the answer). */
export async function podmanStatus(...args: string[]): Promise<number> {
  try {
    await exec("podman", args, { timeout: 120_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? 1;
  }
}

export interface Container {
  name: string;
  logs(): Promise<string>;
  inspect<T = Record<string, unknown>>(format: string): Promise<T>;
  remove(): Promise<void>;
}

/** `podman run -d --name <PREFIX><name>-<random> <args> <image> <cmd>`. */
export async function runContainer(
  name: string,
  image: string,
  args: string[],
  cmd: string[] = [],
): Promise<Container> {
  const full = `${PREFIX}${name}-${Math.random().toString(36).slice(2, 8)}`;
  await podman("run", "-d", "--name", full, ...args, image, ...cmd);
  return {
    name: full,
    logs: async () => {
      const { stdout, stderr } = await exec("podman", ["logs", full]).catch(() => ({
        stdout: "",
        stderr: "",
      }));
      return stdout + stderr;
    },
    inspect: async <T>(format: string) =>
      JSON.parse(await podman("inspect", "-f", `{{json ${format}}}`, full)) as T,
    remove: async () => {
      await podmanStatus("rm", "-f", "-t", "2", full);
    },
  };
}

/** Waits until `check` returns a value (not undefined), polling; fails with `describe()` at the deadline. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  describe: () => Promise<string>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 500);
  }
}

/** A fresh directory under the system's temp dir, with the given subdirectories. */
export function tempDir(prefix: string, ...subdirs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), `mcpt-img-${prefix}-`));
  for (const sub of subdirs) mkdirSync(join(dir, sub), { recursive: true });
  return dir;
}

/** Removes every container whose name starts with PREFIX. */
export async function removeTestContainers(): Promise<void> {
  const names = (await podman("ps", "-a", "--format", "{{.Names}}", "--filter", `name=^${PREFIX}`)).split(
    "\n",
  );
  for (const name of names.filter(Boolean)) await podmanStatus("rm", "-f", "-t", "0", name);
}

/** Waits for `GET <url>/readyz` to answer 200; fails with the container's logs. */
export async function waitReady(url: string, container: Container, timeoutMs = 60_000): Promise<void> {
  const { curl } = await import("@mcp/mcdsl/testing");
  await waitFor(
    async () => ((await curl("-m", "5", `${url}/readyz`)).status === 200 ? true : undefined),
    async () => `${url}/readyz never answered 200; logs of ${container.name}:\n${await container.logs()}`,
    timeoutMs,
  );
}
