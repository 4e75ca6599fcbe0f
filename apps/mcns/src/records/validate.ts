// Checks a record's name, TTL and data before anything is stored: names and label lengths
// (RFC 1035 2.3.4), addresses that parse, data that fits its type, TTL bounds.
import { isIPv4, isIPv6 } from "node:net";
import type { RecordData, Zone } from "../store/record.js";
import { RecordError } from "./errors.js";

/** Longest TTL accepted: one week (longer TTLs only delay fixing mistakes). */
export const MAX_TTL = 604_800;
const LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/**
 * Lower case, without a trailing dot: the form names are stored and compared in. Only ASCII letters
 * are folded: toLowerCase() would turn the Kelvin sign (U+212A) into "k", storing another name than
 * the one asked for; checkName refuses what is left that is not ASCII.
 */
export function normalizeName(name: string): string {
  return name
    .trim()
    .replace(/[A-Z]+/g, (s) => s.toLowerCase())
    .replace(/\.$/, "");
}

/** A host or domain name: labels of 1-63 letters, digits, '-' and '_', at most 253 characters. */
export function checkName(name: string, field: string): void {
  if (name === "") throw new RecordError("invalid", `${field} must not be empty`);
  if (/[\u0080-\uffff]/.test(name)) {
    throw new RecordError(
      "invalid",
      `${field} "${name}" is not ASCII: write an internationalized name in punycode (xn--)`,
    );
  }
  if (name.length > 253) throw new RecordError("invalid", `${field} "${name}" is longer than 253 characters`);
  for (const label of name.split(".")) {
    if (label.length === 0) throw new RecordError("invalid", `${field} "${name}" has an empty label`);
    if (label.length > 63) {
      throw new RecordError("invalid", `${field} "${name}": label "${label}" is longer than 63 characters`);
    }
    if (!LABEL.test(label)) {
      throw new RecordError(
        "invalid",
        `${field} "${name}": label "${label}" may hold only letters, digits, '-' and '_', not at its ends '-'`,
      );
    }
  }
}

export function checkTtl(ttl: number, zone: Zone): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
    throw new RecordError(
      "invalid",
      `ttl ${ttl} must be from 1 to ${MAX_TTL} seconds (0: the zone's default)`,
    );
  }
  return ttl === 0 ? zone.defaultTtl : ttl;
}

const u16 = (n: number, field: string) => {
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new RecordError("invalid", `${field} ${n} must be from 0 to 65535`);
  }
};

/** Checks the data and returns it normalized (names lower case, no trailing dots). */
export function checkData(data: RecordData): RecordData {
  switch (data.type) {
    case "A":
      if (!isIPv4(data.address))
        throw new RecordError("invalid", `address "${data.address}" is not an IPv4 address`);
      return data;
    case "AAAA":
      if (!isIPv6(data.address) || data.address.includes("%")) {
        throw new RecordError("invalid", `address "${data.address}" is not an IPv6 address`);
      }
      return { type: "AAAA", address: data.address.toLowerCase() };
    case "CNAME":
    case "NS": {
      const target = normalizeName(data.target);
      checkName(target, "target");
      return { type: data.type, target };
    }
    case "MX": {
      u16(data.preference, "preference");
      // "." is a null MX (RFC 7505: this name takes no mail), as SRV's "." is "no service".
      const exchange = data.exchange.trim() === "." ? "." : normalizeName(data.exchange);
      if (exchange !== ".") checkName(exchange, "exchange");
      return { type: "MX", preference: data.preference, exchange };
    }
    case "SRV": {
      u16(data.priority, "priority");
      u16(data.weight, "weight");
      u16(data.port, "port");
      const target = data.target.trim() === "." ? "." : normalizeName(data.target);
      if (target !== ".") checkName(target, "target");
      return { ...data, target };
    }
    case "TXT": {
      if (data.strings.length === 0) throw new RecordError("invalid", "txt needs at least one string");
      let total = 0;
      data.strings.forEach((s, i) => {
        const bytes = Buffer.byteLength(s);
        if (bytes > 255)
          throw new RecordError("invalid", `txt.strings[${i}] is ${bytes} bytes; the limit is 255`);
        total += bytes + 1;
      });
      if (total > 4000) throw new RecordError("invalid", `txt data is ${total} bytes; the limit is 4000`);
      return data;
    }
    case "CAA": {
      if (data.flags !== 0 && data.flags !== 128) {
        throw new RecordError("invalid", `caa.flags ${data.flags} must be 0 or 128 (issuer critical)`);
      }
      if (!/^[a-z0-9]{1,15}$/i.test(data.tag)) {
        throw new RecordError(
          "invalid",
          `caa.tag "${data.tag}" must be 1-15 letters or digits (issue, issuewild, iodef)`,
        );
      }
      if (Buffer.byteLength(data.value) > 1024)
        throw new RecordError("invalid", "caa.value is longer than 1024 bytes");
      return { type: "CAA", flags: data.flags, tag: data.tag.toLowerCase(), value: data.value };
    }
  }
}
