// The rules of a record change, shared by the API and the zone-file importer: the zone that holds
// the name, validation, RRset ownership (one owner per name and type; another owner's RRset is a
// conflict, never a silent replace), a CNAME never beside other data, idempotent creates.
import type { DnsRecord, RecordData, RecordType, Zone } from "../store/record.js";
import { sameData } from "../store/record.js";
import type { RecordStore } from "../store/records.js";
import { RecordError } from "./errors.js";
import { checkData, checkName, checkTtl, normalizeName } from "./validate.js";

export interface NewRecord {
  /** Empty: the longest configured zone containing the name. */
  zone?: string;
  name: string;
  ttl: number;
  data: RecordData;
  owner: string;
}

export interface RecordUpdate {
  ttl: number;
  data: RecordData;
  owner: string;
  /** When given, must equal the stored values. */
  zone?: string;
  name?: string;
  type?: RecordType;
}

export class RecordManager {
  constructor(private readonly store: RecordStore) {}

  /** The zone a new record would go in, checked before any authorization decision. */
  zoneFor(input: { zone?: string; name: string }): Zone {
    const name = normalizeName(input.name);
    checkName(name, "name");
    const zoneName = input.zone ? normalizeName(input.zone) : undefined;
    if (zoneName) {
      const zone = this.store.zone(zoneName);
      if (!zone) throw new RecordError("not_found", `zone "${zoneName}" is not served here`);
      if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
        throw new RecordError("invalid", `name "${name}" is not inside zone "${zone.name}"`);
      }
      return zone;
    }
    const zone = this.store.zoneFor(name);
    if (!zone) throw new RecordError("not_found", `no zone served here contains "${name}"`);
    return zone;
  }

  /** Adds a record; `created` is false when the owner already held an identical one. */
  create(input: NewRecord): { record: DnsRecord; created: boolean } {
    const zone = this.zoneFor(input);
    const name = normalizeName(input.name);
    const owner = checkOwner(input.owner);
    const data = checkData(input.data);
    const ttl = checkTtl(input.ttl, zone);
    if (name === zone.name && (data.type === "CNAME" || data.type === "NS")) {
      throw new RecordError(
        "invalid",
        data.type === "CNAME"
          ? `a CNAME cannot be at the zone apex "${name}" (the SOA and NS records are there)`
          : `the NS records of the apex "${name}" come from the zone's configuration`,
      );
    }
    const existing = this.store.atName(name);
    const sameType = existing.filter((r) => r.data.type === data.type);
    const identical = sameType.find((r) => sameData(r.data, data));
    if (identical && identical.owner === owner && identical.ttl === ttl)
      return { record: identical, created: false };
    const holder = sameType[0]?.owner;
    if (holder !== undefined && holder !== owner) {
      throw new RecordError("conflict", `${name} ${data.type} belongs to owner "${holder}", not "${owner}"`);
    }
    if (identical) {
      throw new RecordError(
        "conflict",
        `${name} ${data.type} already has this data (record ${identical.id}, ttl ${identical.ttl}); update it instead`,
      );
    }
    checkCname(name, data.type, existing);
    return { record: this.store.create({ zone: zone.name, name, ttl, data, owner }), created: true };
  }

  update(id: string, change: RecordUpdate): { record: DnsRecord; previous: DnsRecord } {
    const previous = this.#find(id);
    checkOwnedBy(previous, change.owner);
    const given = {
      zone: change.zone && normalizeName(change.zone),
      name: change.name && normalizeName(change.name),
    };
    if (given.zone && given.zone !== previous.zone) {
      throw new RecordError("invalid", `zone cannot change (record ${id} is in "${previous.zone}")`);
    }
    if (given.name && given.name !== previous.name) {
      throw new RecordError(
        "invalid",
        `name cannot change (record ${id} is "${previous.name}"); create a new record`,
      );
    }
    if ((change.type && change.type !== previous.data.type) || change.data.type !== previous.data.type) {
      throw new RecordError("invalid", `type cannot change (record ${id} is ${previous.data.type})`);
    }
    const zone = this.store.zone(previous.zone)!;
    const data = checkData(change.data);
    const ttl = checkTtl(change.ttl, zone);
    const twin = this.store
      .atName(previous.name)
      .find((r) => r.id !== id && r.data.type === data.type && sameData(r.data, data));
    if (twin)
      throw new RecordError(
        "conflict",
        `${previous.name} ${data.type} already has this data (record ${twin.id})`,
      );
    const record = this.store.update(id, ttl, data);
    if (!record) throw new RecordError("not_found", `record "${id}" not found`);
    return { record, previous };
  }

  /** Removes a record; undefined when it is gone and `allowMissing`. */
  delete(id: string, owner: string, allowMissing: boolean): DnsRecord | undefined {
    const record = this.store.get(id);
    if (!record) {
      if (allowMissing) return undefined;
      throw new RecordError("not_found", `record "${id}" not found`);
    }
    checkOwnedBy(record, owner);
    return this.store.delete(id) ?? undefined;
  }

  #find(id: string): DnsRecord {
    if (id === "") throw new RecordError("invalid", "id must not be empty");
    const record = this.store.get(id);
    if (!record) throw new RecordError("not_found", `record "${id}" not found`);
    return record;
  }
}

function checkOwner(owner: string): string {
  const o = owner.trim();
  if (o === "")
    throw new RecordError("invalid", "owner is required (the service or person managing the record)");
  if (o.length > 128) throw new RecordError("invalid", "owner is longer than 128 characters");
  return o;
}

function checkOwnedBy(record: DnsRecord, owner: string): void {
  checkOwner(owner);
  if (record.owner !== owner.trim()) {
    throw new RecordError(
      "not_owner",
      `record ${record.id} (${record.name} ${record.data.type}) belongs to "${record.owner}", not "${owner}"`,
    );
  }
}

/** RFC 1034 3.6.2 / RFC 2181 10.1: a CNAME is alone at its name. */
function checkCname(name: string, type: RecordType, existing: DnsRecord[]): void {
  const cname = existing.find((r) => r.data.type === "CNAME");
  if (type === "CNAME" && existing.length > 0) {
    const other = cname ?? existing[0]!;
    throw new RecordError(
      "conflict",
      cname
        ? `${name} already has a CNAME (record ${cname.id}); a name has at most one`
        : `${name} has ${other.data.type} data (record ${other.id}); a CNAME cannot be beside other data`,
    );
  }
  if (type !== "CNAME" && cname) {
    throw new RecordError(
      "conflict",
      `${name} is a CNAME (record ${cname.id}); other data cannot be beside it`,
    );
  }
}
