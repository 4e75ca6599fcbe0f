import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

export interface DefaultPaths {
  /** Where the app's config file lives: `/etc/<name>` as root, `$XDG_CONFIG_HOME/<name>` otherwise. */
  configDir: string;
  /** Where the app keeps its data: `/srv/<name>` as root, `$XDG_DATA_HOME/<name>` otherwise. */
  dataDir: string;
}

/** Who is asking; tests pass these instead of needing another user. */
export interface PathContext {
  uid?: number;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Per-user paths even for root: for per-user tools such as the `mcp` CLI. */
  user?: boolean;
}

/**
 * The default directories of an app (DESIGN.md `DefaultPath(name)`): system-wide for root,
 * per-user XDG directories for everyone else (`~/.config/<name>`, `~/.local/share/<name>` when
 * the XDG variables are unset). Relative XDG values are ignored, as the XDG spec says.
 */
export function defaultPaths(name: string, context: PathContext = {}): DefaultPaths {
  const uid = context.uid ?? process.getuid?.();
  if (uid === 0 && !context.user) return { configDir: join("/etc", name), dataDir: join("/srv", name) };
  const env = context.env ?? process.env;
  const home = context.home ?? env.HOME ?? homedir();
  return {
    configDir: join(xdg(env.XDG_CONFIG_HOME) ?? join(home, ".config"), name),
    dataDir: join(xdg(env.XDG_DATA_HOME) ?? join(home, ".local", "share"), name),
  };
}

/** `<config dir>/<name>.toml`. */
export function defaultConfigFile(name: string, context: PathContext = {}): string {
  return join(defaultPaths(name, context).configDir, `${name}.toml`);
}

function xdg(value: string | undefined): string | undefined {
  return value && isAbsolute(value) ? value : undefined;
}
