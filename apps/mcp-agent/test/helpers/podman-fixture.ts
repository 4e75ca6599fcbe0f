// Real podman for tests: a busybox-static image made locally (no registry is needed), a unique
// name prefix per test run, and removal of everything the run made, even when a test fails.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEST_IMAGE = "localhost/mcp-agent-test-busybox:1";
export const RUN_LABEL = "mcp.test-run";

const podman = (...args: string[]) =>
  execFileSync("podman", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Builds the test image once (podman import of a busybox rootfs with a page in /www). */
export function ensureTestImage(image = TEST_IMAGE): string {
  try {
    podman("image", "exists", image);
    return image;
  } catch {
    // not there yet
  }
  const dir = mkdtempSync(join(tmpdir(), "mcp-agent-image-"));
  try {
    const bin = join(dir, "rootfs", "bin");
    mkdirSync(bin, { recursive: true });
    copyFileSync("/bin/busybox", join(bin, "busybox"));
    const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    for (const applet of applets) if (applet !== "busybox") symlinkSync("busybox", join(bin, applet));
    mkdirSync(join(dir, "rootfs", "www"));
    mkdirSync(join(dir, "rootfs", "tmp"));
    writeFileSync(join(dir, "rootfs", "www", "index.html"), "hello from busybox\n");
    const tar = execFileSync("tar", ["-C", join(dir, "rootfs"), "-c", "."], { maxBuffer: 64 << 20 });
    execFileSync("podman", ["import", "-", image], { input: tar, stdio: ["pipe", "ignore", "pipe"] });
    return image;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

/** A variant of the test image whose page says `page` (podman build, COPY only: no RUN). */
export function ensurePageImage(image: string, page: string): string {
  try {
    podman("image", "exists", image);
    return image;
  } catch {
    // build it
  }
  const dir = mkdtempSync(join(tmpdir(), "mcp-agent-image-"));
  try {
    writeFileSync(join(dir, "index.html"), `${page}\n`);
    writeFileSync(join(dir, "Containerfile"), `FROM ${TEST_IMAGE}\nCOPY index.html /www/index.html\n`);
    execFileSync("podman", ["build", "--quiet", "-t", image, dir], { stdio: ["ignore", "ignore", "pipe"] });
    return image;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
