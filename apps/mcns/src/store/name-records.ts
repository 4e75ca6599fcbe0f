// The records at one name as a batch keeps them (RecordStore.atName): read once, kept current by the
// batch's changes, with each record's data key and the size of the name's answer ready, so a change
// is checked against thousands of records at its name without reading or comparing them all.
import { answerBytes } from "../dns/wire.js";
import { type DnsRecord, dataKey } from "./record.js";

/** The records at one name, with what the change rules ask of them kept ready. */
export interface NameRecords {
  readonly records: readonly DnsRecord[];
  /** Each record by its data key (dataKey: type and data). */
  readonly byKey: ReadonlyMap<string, DnsRecord>;
  /** What they all take in an answer (answerBytes). */
  readonly bytes: number;
}

export interface NameEntry {
  records: DnsRecord[];
  byKey: Map<string, DnsRecord>;
  bytes: number;
}

export function nameEntry(records: DnsRecord[]): NameEntry {
  const entry: NameEntry = { records: [], byKey: new Map(), bytes: 0 };
  for (const r of records) addToEntry(entry, r);
  return entry;
}

export function addToEntry(entry: NameEntry, r: DnsRecord): void {
  entry.records.push(r);
  entry.byKey.set(dataKey(r.data), r);
  entry.bytes += answerBytes(r.data);
}

export function removeFromEntry(entry: NameEntry, r: DnsRecord): void {
  const at = entry.records.findIndex((x) => x.id === r.id);
  if (at < 0) return;
  const [gone] = entry.records.splice(at, 1);
  entry.bytes -= answerBytes(gone!.data);
  const key = dataKey(gone!.data);
  if (entry.byKey.get(key)?.id === r.id) entry.byKey.delete(key);
}
