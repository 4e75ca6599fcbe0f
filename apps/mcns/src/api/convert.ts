// Protobuf ↔ plain types, at the API's edge.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CaaDataSchema,
  MxDataSchema,
  type Record as RecordMessage,
  RecordSchema,
  RecordType as RecordTypeEnum,
  SrvDataSchema,
  TxtDataSchema,
  type Zone as ZoneMessage,
  ZoneSchema,
} from "@mcp/proto/mcns/v1/record_pb.js";
import type { DnsRecord, RecordData, RecordType, Zone } from "../store/record.js";

const typeToEnum: { [T in RecordType]: RecordTypeEnum } = {
  A: RecordTypeEnum.A,
  AAAA: RecordTypeEnum.AAAA,
  CNAME: RecordTypeEnum.CNAME,
  TXT: RecordTypeEnum.TXT,
  SRV: RecordTypeEnum.SRV,
  MX: RecordTypeEnum.MX,
  NS: RecordTypeEnum.NS,
  CAA: RecordTypeEnum.CAA,
};

export function recordType(value: RecordTypeEnum): RecordType | undefined {
  return (Object.entries(typeToEnum) as [RecordType, RecordTypeEnum][]).find(([, e]) => e === value)?.[0];
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** The record's data as a plain value; InvalidArgument when the data case does not fit the type. */
export function dataFromMessage(record: RecordMessage): RecordData {
  const type = recordType(record.type);
  if (!type) throw invalid("type must be one of A, AAAA, CNAME, TXT, SRV, MX, NS, CAA");
  const d = record.data;
  const want = {
    A: "address",
    AAAA: "address",
    CNAME: "target",
    NS: "target",
    TXT: "txt",
    SRV: "srv",
    MX: "mx",
    CAA: "caa",
  }[type];
  if (d.case !== want)
    throw invalid(`a ${type} record needs \`${want}\` data, got ${d.case ? `\`${d.case}\`` : "none"}`);
  switch (d.case) {
    case "address":
      return { type: type as "A" | "AAAA", address: d.value.trim() };
    case "target":
      return { type: type as "CNAME" | "NS", target: d.value };
    case "txt":
      return { type: "TXT", strings: d.value.strings };
    case "srv":
      return {
        type: "SRV",
        priority: d.value.priority,
        weight: d.value.weight,
        port: d.value.port,
        target: d.value.target,
      };
    case "mx":
      return { type: "MX", preference: d.value.preference, exchange: d.value.exchange };
    case "caa":
      return { type: "CAA", flags: d.value.flags, tag: d.value.tag, value: d.value.value };
    default:
      throw invalid(`a ${type} record needs \`${want}\` data`);
  }
}

export function recordToMessage(r: DnsRecord): RecordMessage {
  return create(RecordSchema, {
    id: r.id,
    zone: r.zone,
    name: r.name,
    type: typeToEnum[r.data.type],
    ttl: r.ttl,
    owner: r.owner,
    createTime: timestampFromDate(r.createdAt),
    updateTime: timestampFromDate(r.updatedAt),
    data: dataToMessage(r.data),
  });
}

function dataToMessage(d: RecordData): RecordMessage["data"] {
  switch (d.type) {
    case "A":
    case "AAAA":
      return { case: "address", value: d.address };
    case "CNAME":
    case "NS":
      return { case: "target", value: d.target };
    case "TXT":
      return { case: "txt", value: create(TxtDataSchema, { strings: d.strings }) };
    case "SRV":
      return { case: "srv", value: create(SrvDataSchema, d) };
    case "MX":
      return { case: "mx", value: create(MxDataSchema, d) };
    case "CAA":
      return { case: "caa", value: create(CaaDataSchema, d) };
  }
}

export function zoneToMessage(z: Zone, recordCount: number): ZoneMessage {
  return create(ZoneSchema, {
    name: z.name,
    primaryNs: z.primaryNs,
    adminMailbox: z.adminMailbox,
    serial: z.serial,
    refresh: z.refresh,
    retry: z.retry,
    expire: z.expire,
    negativeTtl: z.negativeTtl,
    defaultTtl: z.defaultTtl,
    ns: z.ns,
    recordCount,
  });
}
