// The zone import that `mcns import` (offline, on the database file) and the ImportZone RPC (in the
// running server) share: parse the master file, then create every record with the record
// manager's rules (validation, owners, a CNAME alone, idempotent creates) in one store batch, so
// the index follows each change and a failure undoes all of them. All or nothing: any problem, and
// any dry run, rolls the batch back. The SOA and apex NS records are skipped (they come from the
// zone's configuration).
import { RecordError } from "../records/errors.js";
import type { RecordManager } from "../records/manager.js";
import { normalizeName } from "../records/validate.js";
import type { DnsRecord, Zone } from "../store/record.js";
import type { RecordStore } from "../store/records.js";
import { MAX_PROBLEMS, parseZoneFile, type ZoneFileProblem } from "./parse.js";

/** The owner of imported records when none is given. */
export const DEFAULT_IMPORT_OWNER = "import";

export interface ZoneImport {
  /** The master file's text. */
  text: string;
  /** The zone the records go in, and the origin until the file sets $ORIGIN; empty: each record's own zone. */
  zone?: string;
  /** Empty: DEFAULT_IMPORT_OWNER. */
  owner?: string;
  /** Check and count, change nothing. */
  dryRun?: boolean;
  /** Called once per zone the records go in, before the first change there; throwing aborts the import. */
  authorize?: (zone: Zone) => void;
  /**
   * Called for each record added, inside the import's transaction: what it writes (the RPC's
   * mcp.dns.created event) commits with the records, or rolls back with them.
   */
  created?: (record: DnsRecord) => void;
}

export interface ZoneImportResult {
  /** Records added (in a dry run: that would be added). */
  created: number;
  /** Records the owner already held, identical. */
  unchanged: number;
  /** SOA and apex NS records. */
  skipped: number;
  /** In line order; when there are any, nothing changed. */
  problems: ZoneFileProblem[];
  /** The records added and committed: empty after a dry run or problems. */
  records: DnsRecord[];
}

/** Rolls the batch back on purpose (problems found, or a dry run). */
class RollBack extends Error {}

export function importZone(
  store: RecordStore,
  manager: RecordManager,
  request: ZoneImport,
): ZoneImportResult {
  const owner = request.owner?.trim() || DEFAULT_IMPORT_OWNER;
  const zone = request.zone ? normalizeName(request.zone) || undefined : undefined;
  if (zone !== undefined && !store.zone(zone))
    throw new RecordError("not_found", `zone "${zone}" is not served here`);
  const parsed = parseZoneFile(request.text, zone);
  const problems = [...parsed.problems];
  const counts = { created: 0, unchanged: 0, skipped: 0 };
  const records: DnsRecord[] = [];
  const authorized = new Set<string>();
  try {
    store.batch(() => {
      for (const r of parsed.records) {
        if (problems.length > MAX_PROBLEMS) break;
        const data = r.data;
        if (data.type === "SOA") {
          counts.skipped++;
          continue;
        }
        try {
          const target = manager.zoneFor({ zone, name: r.name });
          if (!authorized.has(target.name)) {
            request.authorize?.(target);
            authorized.add(target.name);
          }
          if (data.type === "NS" && r.name === target.name) {
            counts.skipped++;
            continue;
          }
          const { record, created } = manager.create({
            zone: target.name,
            name: r.name,
            ttl: r.ttl ?? 0,
            data,
            owner,
          });
          if (created) {
            counts.created++;
            records.push(record);
            request.created?.(record);
          } else counts.unchanged++;
        } catch (err) {
          if (!(err instanceof RecordError)) throw err;
          problems.push({ line: r.line, message: err.message });
        }
      }
      if (problems.length > 0 || request.dryRun) throw new RollBack();
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
  }
  return {
    ...counts,
    problems: capped(problems.sort((a, b) => a.line - b.line)),
    records: problems.length > 0 || request.dryRun ? [] : records,
  };
}

function capped(problems: ZoneFileProblem[]): ZoneFileProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const rest = problems[MAX_PROBLEMS]!;
  return [
    ...problems.slice(0, MAX_PROBLEMS),
    { line: rest.line, message: `more than ${MAX_PROBLEMS} problems; the rest of the file was not checked` },
  ];
}

/** "old.zone:3: reason", one per line, for people. */
export function formatProblems(file: string, problems: ZoneFileProblem[]): string[] {
  return problems.map((p) => `${file}:${p.line}: ${p.message}`);
}
