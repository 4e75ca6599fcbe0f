// Builds every image once per run (images/build.sh: cached, so seconds when nothing changed) and,
// after the run, removes any test container a crashed test left behind.
import { execFileSync } from "node:child_process";
import { REPO, removeTestContainers } from "./podman.js";

export function setup(): void {
  execFileSync(`${REPO}/images/build.sh`, { stdio: ["ignore", "inherit", "inherit"], timeout: 15 * 60_000 });
}

export async function teardown(): Promise<void> {
  await removeTestContainers();
}
