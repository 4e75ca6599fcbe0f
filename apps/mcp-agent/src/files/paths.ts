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

/** The service's directory: `<root>/<service>`. */
export function serviceDirectory(root: string, service: string): string {
  return resolve(root, service);
}

/** The absolute path of `path` under the service's directory; FilePathError if it would leave it. */
export function servicePath(root: string, service: string, path: string): string {
  if (!path || path.includes("\0"))
    throw new FilePathError(`path ${JSON.stringify(path)} is empty or has a NUL byte`);
  if (/[\\/]$/.test(path))
    throw new FilePathError(`path ${path} ends with a slash: name the file, not a directory`);
  if (isAbsolute(path)) throw new FilePathError(`path ${path} must be relative to the service directory`);
  if (path.split(/[\\/]/).includes("..")) throw new FilePathError(`path ${path} must not contain ".."`);
  const base = serviceDirectory(root, service);
  const full = resolve(base, path);
  if (!full.startsWith(base + sep)) throw new FilePathError(`path ${path} leaves the service directory`);
  // A symlink inside the directory must not point outside it. Both the directory and the file's
  // parent may not exist yet (a service's first file): compare them with their deepest existing
  // ancestors' symlinks resolved.
  const realBase = resolvedAsFarAsExists(base);
  const realParent = resolvedAsFarAsExists(dirname(full));
  if (realParent !== realBase && !realParent.startsWith(realBase + sep)) {
    throw new FilePathError(`path ${path} leaves the service directory through a symlink`);
  }
  return join(base, relative(base, full));
}

/** `path` with the symlinks of its deepest existing ancestor resolved; the rest does not exist yet. */
function resolvedAsFarAsExists(path: string): string {
  let existing = path;
  let real = safeRealpath(existing);
  while (real === undefined) {
    const parent = dirname(existing);
    if (parent === existing) return path;
    existing = parent;
    real = safeRealpath(existing);
  }
  return join(real, relative(existing, path));
}

function safeRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
