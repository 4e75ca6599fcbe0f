import * as z from "zod";
import type { KeyPath } from "./errors.js";

/**
 * Reading a zod schema the way a config file is read: which keys a table has, what type a
 * key expects, what its default is. Used for error messages, unknown-key checks and for
 * mapping environment variables onto keys.
 */

type Schema = z.core.$ZodType;

/** The schema under optional/default/nullable/pipe wrappers: what a value must actually be. */
export function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodCatch
    ) {
      current = current.unwrap() as Schema;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as Schema;
    } else {
      return current;
    }
  }
}

/** The default a schema fills in, looking through wrappers (undefined when there is none). */
export function defaultOf(schema: Schema): unknown {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      return current._zod.def.defaultValue;
    }
    const inner = unwrap1(current);
    if (inner === current) return undefined;
    current = inner;
  }
}

function unwrap1(schema: Schema): Schema {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodReadonly ||
    schema instanceof z.ZodCatch
  ) {
    return schema.unwrap() as Schema;
  }
  if (schema instanceof z.ZodPipe) return schema.in as Schema;
  return schema;
}

/** The keys of a table schema, or undefined when the schema is not a table with fixed keys. */
export function tableShape(schema: Schema): Record<string, Schema> | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? (inner.shape as Record<string, Schema>) : undefined;
}

/** True when a table schema accepts keys it does not list (z.looseObject, .catchall()). */
export function acceptsExtraKeys(schema: Schema): boolean {
  const inner = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return false;
  const catchall = inner._zod.def.catchall;
  return catchall !== undefined && !(catchall instanceof z.ZodNever);
}

/** The schema a key path leads to, or undefined when the schema does not know the path. */
export function schemaAt(schema: Schema, path: KeyPath): Schema | undefined {
  let current: Schema | undefined = schema;
  for (const part of path) {
    if (!current) return undefined;
    const inner = unwrap(current);
    if (inner instanceof z.ZodObject && typeof part === "string") {
      current = (inner.shape as Record<string, Schema>)[part];
    } else if (inner instanceof z.ZodArray) {
      current = inner.element as Schema;
    } else if (inner instanceof z.ZodRecord) {
      current = inner._zod.def.valueType as Schema;
    } else {
      return undefined;
    }
  }
  return current;
}

/** What a schema expects, in words: "a number from 1 to 65535", "one of "l4", "l7"". */
export function describe(schema: Schema): string {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodString) return "a string";
  if (inner instanceof z.ZodBoolean) return "true or false";
  if (inner instanceof z.ZodNumber) return describeNumber(inner);
  if (inner instanceof z.ZodEnum) return `one of ${inner.options.map((o) => JSON.stringify(o)).join(", ")}`;
  if (inner instanceof z.ZodLiteral) return [...inner.values].map((v) => JSON.stringify(v)).join(" or ");
  if (inner instanceof z.ZodArray) return `a list of ${plural(inner.element as Schema)}`;
  if (inner instanceof z.ZodObject || inner instanceof z.ZodRecord) return "a table";
  if (inner instanceof z.ZodUnion) return inner.options.map((o) => describe(o as Schema)).join(" or ");
  return "a valid value";
}

function describeNumber(schema: z.ZodNumber): string {
  const noun = schema.isInt ? "an integer" : "a number";
  // z.int() carries the safe-integer range as bounds; only bounds the app set are worth saying.
  const min =
    schema.minValue !== null && Math.abs(schema.minValue) < Number.MAX_SAFE_INTEGER ? schema.minValue : null;
  const max =
    schema.maxValue !== null && Math.abs(schema.maxValue) < Number.MAX_SAFE_INTEGER ? schema.maxValue : null;
  if (min !== null && max !== null) return `${noun} from ${min} to ${max}`;
  if (min !== null) return `${noun} of at least ${min}`;
  if (max !== null) return `${noun} of at most ${max}`;
  return noun;
}

function plural(schema: Schema): string {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodString) return "strings";
  if (inner instanceof z.ZodNumber) return inner.isInt ? "integers" : "numbers";
  if (inner instanceof z.ZodBoolean) return "booleans";
  if (inner instanceof z.ZodObject || inner instanceof z.ZodRecord) return "tables";
  return "values";
}

/** A value as a message shows it after "got": strings quoted and shortened, tables and lists named. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object" && value !== null) return "a table";
  return String(value);
}

/** The value at a key path of parsed data (undefined when absent). */
export function valueAt(data: unknown, path: KeyPath): unknown {
  let current = data;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}
