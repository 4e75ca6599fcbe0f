// Real podman for tests: the busybox-static image of mcdsl/testing (no registry is needed), a unique
// name prefix per test run, and removal of everything the run made, even when a test fails.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBusyboxImage } from "@mcp/mcdsl/testing";

export const TEST_IMAGE = "localhost/mcp-agent-test-busybox:1";
export const RUN_LABEL = "mcp.test-run";

const podman = (...args: string[]) =>
  execFileSync("podman", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The test image (mcdsl's busybox image: a page in /www), imported once. */
export function ensureTestImage(image = TEST_IMAGE): string {
  return ensureBusyboxImage(image);
}

/** A per-run prefix for container and network names ("mcpt-k3x9q"). */
export function runPrefix(): string {
  return `mcpt-${Math.random().toString(36).slice(2, 7)}`;
}

/** Removes every container labelled with this run, and the given networks. */
export function cleanUp(runId: string, networks: string[] = []): void {
  const ids = podman("ps", "--all", "--quiet", "--filter", `label=${RUN_LABEL}=${runId}`)
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) podman("rm", "--force", "--time", "0", ...ids);
  for (const network of networks) {
    try {
      podman("network", "rm", "--force", network);
    } catch {
      // never created
    }
  }
}

/** A variant of the test image whose page says `page`. */
export function ensurePageImage(image: string, page: string): string {
  return ensureBusyboxImage(image, `${page}\n`);
}

/**
 * The test image plus the host's openssl binary and the libraries it links (for a container that
 * terminates TLS itself: L4 routes). Built with COPY only.
 */
export function ensureOpensslImage(image = "localhost/mcp-agent-test-openssl:1"): string {
  try {
    podman("image", "exists", image);
    return image;
  } catch {
    // build it
  }
  const dir = mkdtempSync(join(tmpdir(), "mcp-agent-image-"));
  try {
    const files = ["/usr/bin/openssl"];
    for (const line of execFileSync("ldd", ["/usr/bin/openssl"], { encoding: "utf8" }).split("\n")) {
      const path = line.match(/(\/\S+) \(0x/)?.[1];
      if (path) files.push(path);
    }
    const copies = files.map((file, i) => {
      copyFileSync(file, join(dir, `f${i}`));
      return `COPY f${i} ${file}\n`;
    });
    writeFileSync(join(dir, "Containerfile"), `FROM ${TEST_IMAGE}\n${copies.join("")}`);
    execFileSync("podman", ["build", "--quiet", "-t", image, dir], { stdio: ["ignore", "ignore", "pipe"] });
    return image;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
