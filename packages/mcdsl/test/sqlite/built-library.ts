import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const packageDir = join(import.meta.dirname, "..", "..");

function newestMtime(dir: string, suffix: string): number {
  if (!existsSync(dir)) return 0;
  const times = readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => statSync(join(dir, f)).mtimeMs);
  return times.length === 0 ? 0 : Math.max(...times);
}

/**
 * Child processes import the compiled library (dist/), as apps do. CI builds before testing; when run
 * by hand after an edit, this rebuilds the package so the child never runs stale code.
 */
export function ensureBuilt(module: string): void {
  const src = newestMtime(join(packageDir, "src", module), ".ts");
  const dist = () => newestMtime(join(packageDir, "dist", module), ".js");
  if (dist() >= src) return;
  const tsc = createRequire(join(packageDir, "package.json")).resolve("typescript/bin/tsc");
  let output = "";
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: packageDir, encoding: "utf8" });
  } catch (err) {
    // tsc still emits when another module has type errors; only a missing output is fatal here.
    output = String((err as { stdout?: string }).stdout ?? err);
  }
  if (dist() < src) throw new Error(`building @mcp/mcdsl did not refresh dist/${module}:\n${output}`);
}
