// `mcns import [--zone Z] [--owner O] [--dry-run] <zonefile>`: the offline import, for migrating the
// old file-based MCNS before the server runs. It opens the database file itself and runs the same
// import as the ImportZone RPC (import.ts). A running mcns does not see what it writes until it
// restarts: against a running server, use the RPC (`mcp dns import`).
import { readFileSync } from "node:fs";
import type { McnsConfig } from "../config.js";
import { ZoneIndex } from "../dns/zone-index.js";
import { RecordError } from "../records/errors.js";
import { RecordManager } from "../records/manager.js";
import { RecordStore } from "../store/records.js";
import { formatProblems, importZone, type ZoneImportResult } from "./import.js";

export interface ImportOptions {
  owner?: string;
  zone?: string;
  dryRun?: boolean;
}

/** Runs the import and returns the process exit code; messages go to stdout and stderr. */
export function runImport(config: McnsConfig, args: string[], options: ImportOptions): number {
  if (args.length !== 1) {
    process.stderr.write(
      "usage: mcns import [--config FILE] [--zone ZONE] [--owner OWNER] [--dry-run] <zonefile>\n",
    );
    return 2;
  }
  const file = args[0]!;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    process.stderr.write(`mcns import: ${file}: no such file\n`);
    return 1;
  }
  const store = new RecordStore(config.database.path, config.zones);
  try {
    let result: ZoneImportResult;
    try {
      // The DNS index answers "any name below?" for NS records at once (see ManagerOptions).
      const index = new ZoneIndex(store.zones(), store.forIndex());
      store.onChange = (change) => index.apply(change);
      const manager = new RecordManager(store, { hasNamesBelow: (n) => index.hasNamesBelow(n) });
      result = importZone(store, manager, { text, ...options });
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      process.stderr.write(
        `mcns import: ${err.message} (zones: ${config.zones.map((z) => z.name).join(", ")})\n`,
      );
      return 1;
    }
    if (result.problems.length > 0) {
      for (const line of formatProblems(file, result.problems))
        process.stderr.write(`mcns import: ${line}\n`);
      const n = result.problems.length;
      process.stderr.write(`mcns import: ${n} problem${n === 1 ? "" : "s"}, nothing was imported\n`);
      return 1;
    }
    process.stdout.write(
      `${file}: ${result.created} records ${options.dryRun ? "would be imported" : "imported"}, ` +
        `${result.unchanged} already present, ${result.skipped} skipped ` +
        "(SOA and apex NS come from the configuration)\n",
    );
    return 0;
  } finally {
    store.close();
  }
}
