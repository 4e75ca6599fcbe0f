import { posix } from "node:path";

/**
 * Which host paths a volume may mount. The agent runs as root and a container is root by
 * default, so a volume is the host seen from inside the container: the paths below are refused
 * whatever the options (`U` would hand them to the container's user, `z`/`Z` relabel them).
 * Subdirectories of the system directories stay allowed (`/etc/mcns`, `/srv/mc-proxy/certs`):
 * the platform's own services need them.
 */

/** System directories as a whole: every service's (or the system's) files at once. */
const WHOLE = new Set([
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
  "/var/lib",
  "/var/run",
  "/var/tmp",
]);

/** Nothing under these: the kernel's interfaces and devices, root's home, and the container runtime (its socket or storage is control over every container). */
const TREES: Record<string, string> = {
  "/proc": "the kernel's process interface",
  "/sys": "the kernel's device and cgroup interface",
  "/dev": "the host's devices",
  "/boot": "the host's kernel and boot loader",
  "/root": "root's home directory",
  "/run/podman": "podman's API socket",
  "/var/run/podman": "podman's API socket",
  "/run/containers": "the container runtime's state",
  "/var/run/containers": "the container runtime's state",
  "/var/lib/containers": "the container runtime's storage",
  "/run/docker.sock": "docker's API socket",
  "/var/run/docker.sock": "docker's API socket",
  "/var/lib/docker": "docker's storage",
  "/run/containerd": "containerd's socket",
  "/var/run/containerd": "containerd's socket",
  "/run/runc": "runc's state",
  "/run/crun": "crun's state",
};

/** The reason an absolute host path may not be mounted, or undefined. */
export function checkHostPath(path: string): string | undefined {
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith("/"))) {
    const plain = posix.normalize(path).replace(/(.)\/$/, "$1");
    return `the host path must be written plainly (no ".", ".." or "//"): ${JSON.stringify(plain)}`;
  }
  if (path === "/") return "the host's root directory cannot be mounted";
  for (const [tree, what] of Object.entries(TREES)) {
    if (path === tree || path.startsWith(`${tree}/`)) return `${tree} (${what}) cannot be mounted`;
  }
  if (WHOLE.has(path))
    return `${path} cannot be mounted as a whole: mount the service's own directory under it`;
  return undefined;
}

/** The reason a container path may not be a mount's target, or undefined. */
export function checkContainerPath(path: string): string | undefined {
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith("/"))) {
    return `the container path must be written plainly (no ".", ".." or "//")`;
  }
  if (path === "/") return "nothing can be mounted over the container's root directory";
  if (path === TLS_MOUNT_DIR || path.startsWith(`${TLS_MOUNT_DIR}/`)) {
    return `${TLS_MOUNT_DIR} is where the agent mounts an L4 route's certificate`;
  }
  return undefined;
}

/** Where the agent mounts the certificate, key and CA of a component with an L4 route. */
export const TLS_MOUNT_DIR = "/run/mcp/tls";
