// The rules of a record change, shared by the API and the zone-file importer: the zone that holds
// the name, validation, RRset ownership (one owner per name and type; another owner's RRset is a
// conflict, never a silent replace), a CNAME never beside other data, delegations that take no
// other owner's names, a name's answer that fits a DNS message, idempotent creates.
import { answerBytes } from "../dns/wire.js";
import { type DnsRecord, dataKey, type RecordData, type RecordType, type Zone } from "../store/record.js";
import type { RecordStore } from "../store/records.js";
import { RecordError } from "./errors.js";
import { checkData, checkName, checkTtl, normalizeName } from "./validate.js";

/**
 * The most the records at one name may take in a DNS answer (wire form). An answer larger than a
 * DNS message (65,535 bytes, TCP's limit) cannot be served at all; this leaves room for the header,
 * the question, EDNS and a chain of 8 CNAMEs leading to the name.
 */
export const MAX_NAME_BYTES = 60_000;

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

export interface ManagerOptions {
  /**
   * Whether any name exists below `name` (the DNS index knows at once). Without it, an NS record's
   * check searches the zone's records (a 2,000-delegation import into a 50,000-record zone: 33 s).
   */
  hasNamesBelow?: (name: string) => boolean;
}

export class RecordManager {
  constructor(
    private readonly store: RecordStore,
    private readonly options: ManagerOptions = {},
  ) {}

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
      // A child zone served here owns its names: naming the parent would let the parent's writers
      // put records there, stored in one zone and served from the other.
      const longest = this.store.zoneFor(name)!;
      if (longest.name !== zone.name) {
        throw new RecordError(
          "invalid",
          `name "${name}" is in zone "${longest.name}", not "${zone.name}" (the longest zone served that contains it)`,
        );
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
    const at = this.store.atName(name);
    const existing = at.records;
    const identical = at.byKey.get(dataKey(data));
    if (identical && identical.owner === owner && identical.ttl === ttl)
      return { record: identical, created: false };
    const holder = existing.find((r) => r.data.type === data.type)?.owner;
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
    checkAnswerSize(name, existing.length + 1, at.bytes + answerBytes(data));
    this.#checkDelegation(zone, name, data.type, owner);
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
    const zone = this.store.zone(previous.zone);
    if (!zone) {
      throw new RecordError(
        "unserved",
        `record ${id} is in zone "${previous.zone}", which is not served here any more: delete it`,
      );
    }
    const data = checkData(change.data);
    const ttl = checkTtl(change.ttl, zone);
    const at = this.store.atName(previous.name);
    checkAnswerSize(
      previous.name,
      at.records.length,
      at.bytes - answerBytes(previous.data) + answerBytes(data),
    );
    const same = at.byKey.get(dataKey(data));
    const twin = same?.id !== id ? same : undefined;
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

  /**
   * NS records below the apex delegate the names at and below them (DNS answers those with a
   * referral): a delegation over another owner's names, or another owner's record under a
   * delegation, would silently take names from their owner. Glue of the delegation's own owner is fine.
   */
  #checkDelegation(zone: Zone, name: string, type: RecordType, owner: string): void {
    if (type === "NS") {
      const below = this.options.hasNamesBelow?.(name) ?? true;
      const hidden = (below ? this.store.atOrBelow(zone.name, name) : this.store.atName(name).records).find(
        (r) => r.owner !== owner,
      );
      if (hidden) {
        throw new RecordError(
          "conflict",
          `${name} NS would delegate away ${hidden.name} ${hidden.data.type} of owner "${hidden.owner}"; only that owner may delegate there`,
        );
      }
    }
    for (let n = name; n !== zone.name; n = n.slice(n.indexOf(".") + 1)) {
      const cut = this.store.atName(n).records.find((r) => r.data.type === "NS" && r.owner !== owner);
      if (cut) {
        throw new RecordError(
          "conflict",
          `${name} is ${n === name ? "at" : "below"} the delegation ${n} of owner "${cut.owner}", where it would not be served`,
        );
      }
    }
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

/** Refuses records at a name whose answer (all of them: a query for ANY) would pass MAX_NAME_BYTES. */
function checkAnswerSize(name: string, count: number, bytes: number): void {
  if (bytes > MAX_NAME_BYTES) {
    throw new RecordError(
      "invalid",
      `the ${count} records at ${name} would take ${bytes} bytes in a DNS answer; the limit is ${MAX_NAME_BYTES} (an answer must fit one DNS message)`,
    );
  }
}

/** RFC 1034 3.6.2 / RFC 2181 10.1: a CNAME is alone at its name. */
function checkCname(name: string, type: RecordType, existing: readonly DnsRecord[]): void {
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
