import { create } from "@bufbuild/protobuf";
import {
  CaaDataSchema,
  type Record as DnsRecord,
  MxDataSchema,
  RecordType,
  SrvDataSchema,
  TxtDataSchema,
} from "@mcp/proto/mcns/v1/record_pb.js";
import { UsageError } from "../errors.js";

export const TYPE_NAMES = ["A", "AAAA", "CNAME", "TXT", "SRV", "MX", "NS", "CAA"] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

/** "a" / "A" → RecordType.A; a usage error listing the types otherwise. */
export function recordType(name: string): RecordType {
  const upper = name.toUpperCase();
  if (!(TYPE_NAMES as readonly string[]).includes(upper)) {
    throw new UsageError(`unknown record type "${name}" (one of ${TYPE_NAMES.join(", ")})`);
  }
  return RecordType[upper as TypeName];
}

export function typeName(type: RecordType): string {
  return RecordType[type] ?? String(type);
}

/** A fully qualified name as MCNS stores it: lower case, no trailing dot. */
export function fqdn(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/**
 * The record data from the command line, in zone-file order: `192.0.2.1`; `target.example`;
 * TXT strings (one per argument); SRV `PRIORITY WEIGHT PORT TARGET`; MX `PREFERENCE EXCHANGE`;
 * CAA `FLAGS TAG VALUE`. Several fields may come as one quoted argument.
 */
export function recordData(type: RecordType, values: string[]): DnsRecord["data"] {
  const fields = type === RecordType.TXT ? values : values.flatMap((v) => v.trim().split(/\s+/));
  const want = (n: number, form: string) => {
    if (fields.length !== n) {
      throw new UsageError(`${typeName(type)} takes ${form}, got ${JSON.stringify(values.join(" "))}`);
    }
  };
  const number = (text: string, what: string) => {
    if (!/^\d+$/.test(text))
      throw new UsageError(`${typeName(type)} ${what} must be a number, got "${text}"`);
    return Number(text);
  };
  switch (type) {
    case RecordType.A:
    case RecordType.AAAA:
      want(1, "an address");
      return { case: "address", value: fields[0]! };
    case RecordType.CNAME:
    case RecordType.NS:
      want(1, "a target name");
      return { case: "target", value: fqdn(fields[0]!) };
    case RecordType.TXT:
      if (fields.length === 0) want(1, "one or more strings");
      return { case: "txt", value: create(TxtDataSchema, { strings: fields }) };
    case RecordType.SRV:
      want(4, "PRIORITY WEIGHT PORT TARGET");
      return {
        case: "srv",
        value: create(SrvDataSchema, {
          priority: number(fields[0]!, "priority"),
          weight: number(fields[1]!, "weight"),
          port: number(fields[2]!, "port"),
          target: fields[3] === "." ? "." : fqdn(fields[3]!),
        }),
      };
    case RecordType.MX:
      want(2, "PREFERENCE EXCHANGE");
      return {
        case: "mx",
        value: create(MxDataSchema, {
          preference: number(fields[0]!, "preference"),
          exchange: fqdn(fields[1]!),
        }),
      };
    case RecordType.CAA: {
      const [flags, tag, ...rest] = fields;
      if (flags === undefined || tag === undefined || rest.length === 0) want(3, "FLAGS TAG VALUE");
      return {
        case: "caa",
        value: create(CaaDataSchema, {
          flags: number(flags!, "flags"),
          tag: tag!,
          value: rest.join(" ").replace(/^"(.*)"$/, "$1"),
        }),
      };
    }
    default:
      throw new UsageError(`unsupported record type ${typeName(type)}`);
  }
}

/** The data as a zone file writes it. */
export function formatData(data: DnsRecord["data"]): string {
  switch (data.case) {
    case "address":
    case "target":
      return data.value;
    case "txt":
      return data.value.strings.map((s) => JSON.stringify(s)).join(" ");
    case "srv":
      return `${data.value.priority} ${data.value.weight} ${data.value.port} ${data.value.target}`;
    case "mx":
      return `${data.value.preference} ${data.value.exchange}`;
    case "caa":
      return `${data.value.flags} ${data.value.tag} ${JSON.stringify(data.value.value)}`;
    default:
      return "";
  }
}
