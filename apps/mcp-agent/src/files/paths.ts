// Where a service's files live on the node (`<root>/<service>/`, /srv/<service> by default) and
// the check that a requested path stays inside it: relative, no "..", no NUL, and no symlink on
// the way that leads out.
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

export class FilePathError extends Error {
  readonly code = "INVALID_ARGUMENT";

  constructor(message: string) {
    super(message);
    this.name = "FilePathError";
  }
}

/** The absolute path of `path` under the service's directory; FilePathError if it would leave it. */
export function servicePath(root: string, service: string, path: string): string {
  if (!path || path.includes("\0"))
    throw new FilePathError(`path ${JSON.stringify(path)} is empty or has a NUL byte`);
  if (isAbsolute(path)) throw new FilePathError(`path ${path} must be relative to the service directory`);
  if (path.split(/[\\/]/).includes("..")) throw new FilePathError(`path ${path} must not contain ".."`);
  const base = resolve(root, service);
  const full = resolve(base, path);
  if (!full.startsWith(base + sep)) throw new FilePathError(`path ${path} leaves the service directory`);
  // A symlink inside the directory must not point outside it: check the deepest existing parent.
  const realBase = safeRealpath(base) ?? base;
  let probe = dirname(full);
  while (probe.startsWith(base) && safeRealpath(probe) === undefined) probe = dirname(probe);
  const real = safeRealpath(probe);
  if (real !== undefined && real !== realBase && !real.startsWith(realBase + sep)) {
    throw new FilePathError(`path ${path} leaves the service directory through a symlink`);
  }
  return join(base, relative(base, full));
}

function safeRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
