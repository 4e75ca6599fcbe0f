// `mcns import [--zone Z] [--owner O] <zonefile>`: loads an RFC 1035 zone file into the store, so
// the old file-based MCNS migrates. Records go through the same rules as the API (validation,
// owners, a CNAME alone); the whole file is one transaction, so an error changes nothing. A
// re-import is safe: records already there are counted, not doubled. The SOA and the apex NS
// records are skipped (they come from the zone's configuration). It writes the database directly:
// restart a running mcns afterwards (or use the API) so DNS serves the imported records.
import { readFileSync } from "node:fs";
import type { McnsConfig } from "../config.js";
import { RecordError } from "../records/errors.js";
import { RecordManager } from "../records/manager.js";
import type { RecordData } from "../store/record.js";
import { RecordStore } from "../store/records.js";
import { parseZoneFile, ZoneFileError } from "./parse.js";

export interface ImportOptions {
  owner?: string;
  zone?: string;
}

/** Runs the import and returns the process exit code; messages go to stdout and stderr. */
export function runImport(config: McnsConfig, args: string[], options: ImportOptions): number {
  if (args.length !== 1) {
    process.stderr.write("usage: mcns import [--config FILE] [--zone ZONE] [--owner OWNER] <zonefile>\n");
    return 2;
  }
  const file = args[0]!;
  let store: RecordStore | undefined;
  try {
    const records = parseZoneFile(readFileSync(file, "utf8"), file, options.zone);
    store = new RecordStore(config.database.path, config.zones);
    const manager = new RecordManager(store);
    const owner = options.owner ?? "import";
    const counts = { created: 0, present: 0, skipped: 0 };
    store.batch(() => {
      for (const r of records) {
        try {
          if (r.data.type === "SOA") {
            counts.skipped++;
            continue;
          }
          const zone = manager.zoneFor({ zone: options.zone, name: r.name });
          if (r.data.type === "NS" && r.name === zone.name) {
            counts.skipped++;
            continue;
          }
          const data = r.data as RecordData;
          const { created } = manager.create({ zone: zone.name, name: r.name, ttl: r.ttl ?? 0, data, owner });
          counts[created ? "created" : "present"]++;
        } catch (err) {
          if (err instanceof RecordError) throw new ZoneFileError(file, r.line, err.message);
          throw err;
        }
      }
    });
    process.stdout.write(
      `${file}: ${counts.created} records imported, ${counts.present} already present, ` +
        `${counts.skipped} skipped (SOA and apex NS come from the configuration)\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ZoneFileError) {
      process.stderr.write(`mcns import: ${err.message} (nothing was imported)\n`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      process.stderr.write(`mcns import: ${file}: no such file\n`);
      return 1;
    }
    throw err;
  } finally {
    store?.close();
  }
}
