import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A container image for tests, made locally since no registry is reachable: busybox-static with
 * its applets, and `/www/index.html` holding `page` (serve it with `httpd -f -p $PORT -h /www`).
 * Imported once; later calls find it. Needs podman and /bin/busybox (Debian's busybox-static).
 */
export function ensureBusyboxImage(image: string, page = "hello from busybox\n"): string {
  const podman = (...args: string[]) => execFileSync("podman", args, { stdio: ["pipe", "ignore", "pipe"] });
  try {
    podman("image", "exists", image);
    return image;
  } catch {
    // not there yet
  }
  const dir = mkdtempSync(join(tmpdir(), "busybox-image-"));
  try {
    const root = join(dir, "rootfs");
    mkdirSync(join(root, "bin"), { recursive: true });
    mkdirSync(join(root, "www"));
    mkdirSync(join(root, "tmp"));
    copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
    const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n");
    for (const applet of applets)
      if (applet && applet !== "busybox") symlinkSync("busybox", join(root, "bin", applet));
    writeFileSync(join(root, "www", "index.html"), page);
    const tar = execFileSync("tar", ["-C", root, "-c", "."], { maxBuffer: 64 << 20 });
    execFileSync("podman", ["import", "-", image], { input: tar, stdio: ["pipe", "ignore", "pipe"] });
    return image;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
