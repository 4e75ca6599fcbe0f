// The plain TypeScript shape of a DNS record as MCNS stores and serves it. The API converts protobuf
// to and from these types at the edge; DNS encodes them to wire format.

export const RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT", "SRV", "MX", "NS", "CAA"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export type RecordData =
  | { type: "A" | "AAAA"; address: string }
  | { type: "CNAME" | "NS"; target: string }
  | { type: "TXT"; strings: string[] }
  | { type: "SRV"; priority: number; weight: number; port: number; target: string }
  | { type: "MX"; preference: number; exchange: string }
  | { type: "CAA"; flags: number; tag: string; value: string };

export interface DnsRecord {
  id: string;
  zone: string;
  /** Fully qualified, lower case, no trailing dot. */
  name: string;
  ttl: number;
  data: RecordData;
  owner: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A zone's settings (from the config) and its current SOA serial (from the database). */
export interface Zone {
  name: string;
  primaryNs: string;
  adminMailbox: string;
  ns: string[];
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  negativeTtl: number;
  defaultTtl: number;
  writers: string[];
}

/** The record's data in zone-file presentation form ("10 mail.example.net.", "\"v=spf1 -all\""). */
export function formatData(data: RecordData): string {
  switch (data.type) {
    case "A":
    case "AAAA":
      return data.address;
    case "CNAME":
    case "NS":
      return `${data.target}.`;
    case "TXT":
      return data.strings.map(quote).join(" ");
    case "SRV":
      return `${data.priority} ${data.weight} ${data.port} ${data.target === "." ? "." : `${data.target}.`}`;
    case "MX":
      return `${data.preference} ${data.exchange === "." ? "." : `${data.exchange}.`}`;
    case "CAA":
      return `${data.flags} ${data.tag} ${quote(data.value)}`;
  }
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Whether two records carry the same data (the RRset members are compared this way). */
export function sameData(a: RecordData, b: RecordData): boolean {
  return dataKey(a) === dataKey(b);
}

/** The data as a string equal for equal data (type included): the key of an RRset member. */
export function dataKey(d: RecordData): string {
  return JSON.stringify(normalize(d));
}

function normalize(d: RecordData): unknown {
  // Key order is fixed by construction, but addresses may be spelled differently
  // ("::ffff:192.0.2.1" is "::ffff:c000:201": one RRset must not hold both).
  if (d.type === "AAAA") return { type: d.type, address: fullIpv6(d.address) };
  return d;
}

/** Any spelling of an IPv6 address as its 8 groups in full, lower case: "::1.2.3.4" → "0000:…:0102:0304". */
export function fullIpv6(address: string): string {
  // The URL parser canonicalizes every IPv6 spelling, embedded IPv4 included ("::ffff:1.2.3.4").
  return expandIpv6(new URL(`http://[${address}]/`).hostname.slice(1, -1));
}

/** "2001:db8::1" → the 8 groups in full, lower case (hex groups only: see fullIpv6). */
function expandIpv6(address: string): string {
  const [head = "", tail] = address.toLowerCase().split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => g.padStart(4, "0")).join(":");
}
