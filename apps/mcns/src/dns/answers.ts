// Builds the answer to (name, type) once, in wire form, and keeps it: a query is then answered by
// copying those bytes and patching the id, the RD flag and the question's case (responder.ts).
// The answer follows RFC 1034 4.3.2 and RFC 2308: AA; NXDOMAIN or NODATA with the zone's SOA in the
// authority section; CNAMEs chased inside our zones; referrals below delegated names.
import type { Zone } from "../store/record.js";
import {
  FLAG_AA,
  FLAG_QR,
  MessageWriter,
  nameKey,
  parentKey,
  RCODE,
  TYPE,
  TYPE_ANY,
  writeRdata,
} from "./wire.js";
import { type IndexedRecord, type IndexedZone, ofType, type ZoneIndex } from "./zone-index.js";

const MAX_CNAME_HOPS = 8;
const MAX_CACHED = 200_000;

/** A prepared answer: the whole message with id 0, the question lower case, no OPT record. */
export interface Answer {
  bytes: Buffer;
  /** The question's end, so a truncated answer keeps header and question only. */
  questionEnd: number;
  rcode: number;
}

export class AnswerCache {
  #entries = new Map<string, Map<number, Answer>>();
  #size = 0;
  #generation = -1;

  constructor(private readonly index: ZoneIndex) {}

  /** The answer for a lookup key and type; undefined when the name is in none of our zones. */
  get(key: string, qtype: number): Answer | undefined {
    if (this.#generation !== this.index.generation || this.#size >= MAX_CACHED) {
      this.#entries = new Map();
      this.#size = 0;
      this.#generation = this.index.generation;
    }
    let byType = this.#entries.get(key);
    let answer = byType?.get(qtype);
    if (answer) return answer;
    answer = buildAnswer(this.index, key, qtype);
    if (!answer) return undefined;
    if (!byType) {
      byType = new Map();
      this.#entries.set(key, byType);
    }
    byType.set(qtype, answer);
    this.#size++;
    return answer;
  }
}

interface Rr {
  /** The owner's lookup key (wire form). */
  owner: string;
  type: number;
  ttl: number;
  write: (w: MessageWriter) => void;
  /** For a CNAME: where the chase goes next. */
  cnameTarget?: string;
}
type Section = Rr[];

export function buildAnswer(index: ZoneIndex, key: string, qtype: number): Answer | undefined {
  const first = index.zoneOf(key);
  if (!first) return undefined;
  const w = new MessageWriter();
  w.bytes(Buffer.alloc(12));
  w.wireName(key);
  w.u16(qtype);
  w.u16(1);
  const questionEnd = w.length;

  const answer: Section = [];
  const authority: Section = [];
  const additional: Section = [];
  let rcode = RCODE.NOERROR;
  let aa = true;
  let current = key;
  let zone: IndexedZone | undefined = first;
  const seen = new Set<string>();

  for (let hop = 0; zone && hop <= MAX_CNAME_HOPS && !seen.has(current); hop++) {
    seen.add(current);
    const cut = delegation(index, current, zone);
    if (cut) {
      // Below a zone cut: refer to the child's name servers (RFC 1034 4.3.2 step 3b), not authoritative.
      if (hop === 0) aa = false;
      const ns = ofType(index.node(cut), "NS");
      authority.push(...rrset(cut, ns));
      for (const r of ns) if (r.data.type === "NS") additional.push(...glue(index, r.data.target, cut));
      break;
    }
    const node = index.node(current);
    if (!node) {
      rcode = RCODE.NXDOMAIN;
      authority.push(soa(zone.zone, true));
      break;
    }
    const sets = recordsAt(current, node.records, current === zone.key ? zone.zone : undefined);
    const wanted = qtype === TYPE_ANY ? [...sets.values()].flat() : sets.get(qtype);
    if (wanted && wanted.length > 0) {
      answer.push(...wanted.map((rr) => ({ ...rr, owner: current })));
      break;
    }
    const cname = sets.get(TYPE.CNAME)?.[0];
    if (!cname) {
      authority.push(soa(zone.zone, true));
      break;
    }
    answer.push({ ...cname, owner: current });
    current = nameKey(cname.cnameTarget ?? "");
    zone = index.zoneOf(current);
  }

  for (const section of [answer, authority, additional]) {
    for (const rr of section) {
      w.wireName(rr.owner);
      w.u16(rr.type);
      w.u16(1);
      w.u32(rr.ttl);
      w.rdata(rr.write);
    }
  }
  const bytes = w.toBuffer();
  bytes.writeUInt16BE(FLAG_QR | (aa ? FLAG_AA : 0) | rcode, 2);
  bytes.writeUInt16BE(1, 4);
  bytes.writeUInt16BE(answer.length, 6);
  bytes.writeUInt16BE(authority.length, 8);
  bytes.writeUInt16BE(additional.length, 10);
  return { bytes, questionEnd, rcode };
}

/** An RRset as written records, all with the smallest TTL among them (RFC 2181 5.2). */
function rrset(owner: string, records: IndexedRecord[]): Rr[] {
  const ttl = Math.min(...records.map((r) => r.ttl));
  return records.map((r) => ({
    owner,
    type: TYPE[r.data.type],
    ttl,
    write: (w: MessageWriter) => writeRdata(w, r.data),
    cnameTarget: r.data.type === "CNAME" ? r.data.target : undefined,
  }));
}

/** The RRsets at a name by type, with the SOA and NS records of the zone at its apex. */
function recordsAt(owner: string, records: IndexedRecord[], apexOf: Zone | undefined): Map<number, Rr[]> {
  const out = new Map<number, Rr[]>();
  if (apexOf) {
    out.set(TYPE.SOA, [soa(apexOf, false)]);
    out.set(
      TYPE.NS,
      apexOf.ns.map((target) => ({
        owner: nameKey(apexOf.name),
        type: TYPE.NS,
        ttl: apexOf.defaultTtl,
        write: (w: MessageWriter) => w.name(target),
      })),
    );
  }
  const byType = new Map<number, IndexedRecord[]>();
  for (const r of records) {
    const type = TYPE[r.data.type];
    if (apexOf && type === TYPE.NS) continue; // the apex NS set comes from the config
    byType.set(type, [...(byType.get(type) ?? []), r]);
  }
  for (const [type, set] of byType) out.set(type, rrset(owner, set));
  return out;
}

/** The zone's SOA; in a negative answer its TTL is min(SOA TTL, MINIMUM) (RFC 2308 section 3). */
function soa(zone: Zone, negative: boolean): Rr {
  return {
    owner: nameKey(zone.name),
    type: TYPE.SOA,
    ttl: negative ? Math.min(zone.defaultTtl, zone.negativeTtl) : zone.defaultTtl,
    write: (w) => {
      w.name(zone.primaryNs);
      w.name(zone.adminMailbox);
      w.u32(zone.serial);
      w.u32(zone.refresh);
      w.u32(zone.retry);
      w.u32(zone.expire);
      w.u32(zone.negativeTtl);
    },
  };
}

/** The closest name strictly below the apex, at or above `key`, that has NS records: a zone cut. */
function delegation(index: ZoneIndex, key: string, zone: IndexedZone): string | undefined {
  let cut: string | undefined;
  for (let k = key; k !== zone.key && k !== ""; k = parentKey(k)) {
    if (ofType(index.node(k), "NS").length > 0) cut = k;
  }
  return cut;
}

/** A and AAAA records of a name server inside the delegated child (glue). */
function glue(index: ZoneIndex, target: string, cut: string): Rr[] {
  const key = nameKey(target);
  if (!key.endsWith(cut)) return [];
  const node = index.node(key);
  return (["A", "AAAA"] as const).flatMap((type) => {
    const records = ofType(node, type);
    return records.length ? rrset(key, records) : [];
  });
}
