// A private view of the repository: a temporary folder holding a symlink to every top-level entry
// of the repository except `.mcp-dev/`, which is a real folder of its own. Commands run from the
// view see the repository exactly as a user does (`apps/cli/dist/main.js`, `scripts/dev/up.sh`,
// `examples/…`), while `.mcp-dev/` — the state folder the scripts write and the `mcp` command finds
// by walking up from its working directory — is this test's, never the developer's. The scripts
// resolve the repository with `cd … && pwd`, which keeps the symlinked path, so they land here too.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository this suite belongs to. */
export const REPO = resolve(import.meta.dirname, "../../../..");

export interface RepoView {
  /** The view: the working directory of every command the tests run. */
  dir: string;
  /** `<dir>/.mcp-dev`, the platform's state folder (MCP_DEV_STATE). */
  state: string;
  /** A home folder of its own, so no `~/.config/mcp` of the developer's is read. */
  home: string;
  remove(): void;
}

export function makeRepoView(name: string): RepoView {
  const dir = mkdtempSync(join(tmpdir(), `mcp-e2e-${name}-`));
  for (const entry of readdirSync(REPO)) {
    if (entry === ".mcp-dev") continue;
    symlinkSync(join(REPO, entry), join(dir, entry));
  }
  const state = join(dir, ".mcp-dev");
  const home = join(dir, ".home");
  mkdirSync(state);
  mkdirSync(home);
  return {
    dir,
    state,
    home,
    // rm does not follow the symlinks: only the view, the state and the home go.
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
