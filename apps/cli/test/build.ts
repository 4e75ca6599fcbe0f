import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * Vitest global setup: the tests run the real `mcp` binary, so compile it first (what
 * `pnpm --filter @mcp/cli build` does). @mcp/mcdsl must be built already, as turbo's
 * `test` → `build` ordering ensures.
 */
export default function setup(): void {
  const cli = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: cli, stdio: "inherit" });
}
