import type { McnsConfig } from "../config.js";

export function runImport(
  _config: McnsConfig,
  _args: string[],
  _options: { owner?: string; zone?: string },
): number {
  process.stderr.write("mcns import: not built yet\n");
  return 2;
}
