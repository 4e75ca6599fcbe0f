import { checkContainerPath, checkHostPath } from "./host-paths.js";
import { CONTROL, forbiddenCharacter } from "./text.js";
import type { VolumeMount } from "./types.js";

// podman's -v options that make sense for a service's volumes.
const OPTIONS = new Set([
  "ro",
  "rw",
  "z",
  "Z",
  "U",
  "O",
  "copy",
  "nocopy",
  "bind",
  "rbind",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "private",
  "rprivate",
  "exec",
  "noexec",
  "suid",
  "nosuid",
  "dev",
  "nodev",
  "idmap",
]);

/**
 * `source:target[:options]` — source an absolute host path (host-paths.ts says which) or a named
 * volume, target an absolute path in the container; or the reason it is not.
 */
export function parseVolume(spec: string): VolumeMount | string {
  const [source = "", target = "", options, ...rest] = spec.split(":");
  const got = `got ${JSON.stringify(spec)}`;
  const control = forbiddenCharacter(spec, CONTROL);
  if (control) return `a volume cannot contain ${control}, ${got}`;
  if (rest.length > 0 || target === "") {
    return `expected source:target[:options] such as "/srv/hello/data:/data:ro", ${got}`;
  }
  if (!source.startsWith("/") && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) {
    return `the source must be an absolute path or a volume name, ${got}`;
  }
  if (!target.startsWith("/")) return `the target must be an absolute path in the container, ${got}`;
  const problem = (source.startsWith("/") ? checkHostPath(source) : undefined) ?? checkContainerPath(target);
  if (problem) return `${problem}, ${got}`;
  const list = options === undefined ? [] : options.split(",");
  const unknown = list.filter((option) => !OPTIONS.has(option));
  if (unknown.length > 0) {
    return `unknown volume option ${unknown.map((o) => JSON.stringify(o)).join(", ")} (known: ro, rw, z, Z, U, O, nocopy, …), ${got}`;
  }
  return { spec, source, target, options: list };
}
