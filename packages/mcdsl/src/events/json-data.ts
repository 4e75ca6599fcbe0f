import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { EventsError } from "./errors.js";

/**
 * Checks that event data is a plain JSON object (it travels as a protobuf Struct) and returns a
 * copy without `undefined` properties (optional fields left out). Anything JSON cannot carry
 * faithfully (a Date, NaN, a Map, a bigint) is refused with its path, rather than silently changed.
 */
export function toJsonObject(type: string, data: unknown): JsonObject {
  if (!isPlainObject(data)) {
    throw new EventsError(
      "INVALID_DATA",
      `event ${type}: data must be a plain object, got ${describe(data)}`,
    );
  }
  return convert(type, data, "data") as JsonObject;
}

function convert(type: string, value: unknown, path: string): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw invalid(type, path, `is ${value}, which JSON cannot carry`);
  }
  if (Array.isArray(value)) return value.map((v, i) => convert(type, v, `${path}[${i}]`));
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined) out[key] = convert(type, v, `${path}.${key}`);
    }
    return out;
  }
  const hint = value instanceof Date ? " (send date.toISOString())" : "";
  throw invalid(type, path, `is ${describe(value)}, not JSON${hint}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return `a ${v.constructor?.name ?? "object"}`;
  return `a ${typeof v}`;
}

function invalid(type: string, path: string, why: string): EventsError {
  return new EventsError("INVALID_DATA", `event ${type}: ${path} ${why}`);
}
