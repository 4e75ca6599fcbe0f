// The in-memory index DNS answers from: every name of every zone, keyed by its wire form, with its
// records grouped by type. Built from SQLite at start and updated inside the transaction that commits
// a change (RecordStore.onChange), so DNS serves a change as soon as the API call returns.

import type { DnsRecord, RecordData, Zone } from "../store/record.js";
import type { Change } from "../store/records.js";
import { nameKey, parentKey } from "./wire.js";

/** What DNS needs of a record; kept small, since the index holds every record in memory. */
export interface IndexedRecord {
  id: string;
  ttl: number;
  data: RecordData;
}

/** A record as the index takes it (a DnsRecord will do). */
export type IndexInput = Pick<DnsRecord, "id" | "zone" | "name" | "ttl" | "data">;

export interface NameNode {
  /** Records at this name, all types (a plain array: far smaller than a map per name). */
  records: IndexedRecord[];
  /** Child names: a name with children and no records exists (an empty non-terminal, RFC 8020). */
  descendants: number;
}

export interface IndexedZone {
  zone: Zone;
  key: string;
}

export class ZoneIndex {
  readonly #zones = new Map<string, IndexedZone>();
  readonly #nodes = new Map<string, NameNode>();
  readonly #counts = new Map<string, number>();
  /** Raised on every change, so answers cached before it are rebuilt. */
  generation = 0;

  constructor(zones: Zone[], records: Iterable<IndexInput>) {
    for (const zone of zones) this.setZone(zone);
    for (const record of records) this.#add(record);
  }

  setZone(zone: Zone): void {
    const key = nameKey(zone.name);
    this.#zones.set(key, { zone, key });
    if (!this.#nodes.has(key)) this.#nodes.set(key, { records: [], descendants: 0 });
    this.generation++;
  }

  apply(change: Change): void {
    if (change.kind !== "created") this.#remove(change.kind === "updated" ? change.previous : change.record);
    if (change.kind !== "deleted") this.#add(change.record);
    this.setZone(change.zone);
  }

  /** The zone a key is in (the longest match), or undefined outside every zone. */
  zoneOf(key: string): IndexedZone | undefined {
    for (let k = key; k !== ""; k = parentKey(k)) {
      const zone = this.#zones.get(k);
      if (zone) return zone;
    }
    return undefined;
  }

  /** Whether any name exists below `name` (in any of our zones). */
  hasNamesBelow(name: string): boolean {
    return (this.#nodes.get(nameKey(name))?.descendants ?? 0) > 0;
  }

  node(key: string): NameNode | undefined {
    return this.#nodes.get(key);
  }

  recordCounts(): Map<string, number> {
    return this.#counts;
  }

  #add(record: IndexInput): void {
    const key = nameKey(record.name);
    const zoneKey = nameKey(record.zone);
    if (!this.#zones.has(zoneKey)) return;
    let node = this.#nodes.get(key);
    if (!node) {
      node = { records: [], descendants: 0 };
      this.#nodes.set(key, node);
      // `descendants` counts direct children: create missing parents up to the first that exists
      // (the apex always does).
      for (let k = parentKey(key); k !== ""; k = parentKey(k)) {
        const up = this.#nodes.get(k);
        if (up) {
          up.descendants++;
          break;
        }
        this.#nodes.set(k, { records: [], descendants: 1 });
      }
    }
    node.records.push({ id: record.id, ttl: record.ttl, data: record.data });
    this.#counts.set(record.zone, (this.#counts.get(record.zone) ?? 0) + 1);
  }

  #remove(record: DnsRecord): void {
    const key = nameKey(record.name);
    const zoneKey = nameKey(record.zone);
    const node = this.#nodes.get(key);
    const at = node?.records.findIndex((r) => r.id === record.id) ?? -1;
    if (!node || at < 0) return;
    node.records.splice(at, 1);
    this.#counts.set(record.zone, (this.#counts.get(record.zone) ?? 1) - 1);
    // Drop names that no longer exist, up to the apex (which always exists).
    for (let k = key, n: NameNode | undefined = node; n && k !== zoneKey; ) {
      if (n.records.length > 0 || n.descendants > 0) break;
      this.#nodes.delete(k);
      k = parentKey(k);
      n = this.#nodes.get(k);
      if (n) n.descendants--;
    }
  }
}

/** The records of one type at a node. */
export function ofType(node: NameNode | undefined, type: RecordData["type"]): IndexedRecord[] {
  return node ? node.records.filter((r) => r.data.type === type) : [];
}
