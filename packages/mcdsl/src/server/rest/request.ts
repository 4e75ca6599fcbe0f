import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { explainMessage } from "./json-error.js";

/** A REST request that cannot become an RPC request: HTTP 400 with this message. */
export class BadRequestError extends Error {}

export interface RestParts {
  /** Path variable values by field path ("note.id"). */
  pathVariables: Map<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined when there was none. */
  body: JsonValue | undefined;
  /** The rule's `body`: "" (no body), "*" (the whole request) or a top-level field name. */
  bodyField: string;
}

function findField(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name || f.jsonName === name);
}

/** Walks a dotted field path ("note.id" or "note.createTime") through nested singular message fields. */
function resolvePath(root: DescMessage, path: string, what: string): DescField[] {
  const fields: DescField[] = [];
  let message: DescMessage | undefined = root;
  for (const part of path.split(".")) {
    const field: DescField | undefined = message && findField(message, part);
    if (!field) throw new BadRequestError(`${what}: ${root.typeName} has no field "${path}"`);
    fields.push(field);
    message = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

/** A query or path value as the JSON value protobuf JSON expects for the field. */
function leafJson(field: DescField, values: string[], what: string): JsonValue {
  const one = (scalarOrEnum: "scalar" | "enum" | "message", v: string): JsonValue => {
    if (scalarOrEnum === "enum") return /^-?\d+$/.test(v) ? Number(v) : v;
    if (scalarOrEnum === "message") {
      const typeName = field.message?.typeName ?? "";
      // Well-known types with a JSON string form (Timestamp, Duration, FieldMask, wrappers) take the value.
      if (!typeName.startsWith("google.protobuf.")) {
        throw new BadRequestError(
          `${what}: field "${field.name}" is a message and cannot be set from a string`,
        );
      }
      return typeName === "google.protobuf.BoolValue" ? parseBool(v, what) : v;
    }
    const scalar = field.scalar ?? ScalarType.STRING;
    return scalar === ScalarType.BOOL ? parseBool(v, what) : v; // numbers as strings: protobuf JSON accepts them
  };
  switch (field.fieldKind) {
    case "list":
      return values.map((v) => one(field.listKind, v));
    case "map":
      throw new BadRequestError(`${what}: map field "${field.name}" cannot be set from a parameter`);
    default:
      if (values.length > 1) {
        throw new BadRequestError(
          `${what}: given ${values.length} times, but "${field.name}" is not repeated`,
        );
      }
      return one(field.fieldKind, values[0] ?? "");
  }
}

function parseBool(v: string, what: string): boolean {
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new BadRequestError(`${what}: "${v}" is not a boolean (true or false)`);
}

/** Sets `value` at the JSON location of a field path, creating the objects on the way. */
function setJson(target: JsonObject, fields: DescField[], value: JsonValue): void {
  let obj = target;
  fields.forEach((field, i) => {
    if (i === fields.length - 1) {
      obj[field.jsonName] = value;
      return;
    }
    const next = obj[field.jsonName];
    if (next !== undefined && next !== null && (typeof next !== "object" || Array.isArray(next))) {
      // A body that is no object would otherwise be dropped for the path variable's {}.
      throw new BadRequestError(
        `${fields
          .slice(0, i + 1)
          .map((f) => f.jsonName)
          .join(".")}: expected an object (${field.message?.typeName}), got ${JSON.stringify(next)}`,
      );
    }
    if (next === undefined || next === null) obj[field.jsonName] = {};
    obj = obj[field.jsonName] as JsonObject;
  });
}

/**
 * Builds the RPC request from a REST call: the body (whole or one field), then query parameters for the
 * fields the body does not cover, then path variables (which win).
 */
export function buildRequest<T extends DescMessage>(schema: T, parts: RestParts): MessageShape<T> {
  let json: JsonObject = {};
  let bodyFieldDesc: DescField | undefined;
  if (parts.bodyField === "*") {
    const body = parts.body ?? {};
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new BadRequestError(`request body must be a JSON object (${schema.typeName})`);
    }
    json = { ...body };
  } else if (parts.bodyField !== "") {
    bodyFieldDesc = findField(schema, parts.bodyField);
    if (!bodyFieldDesc) throw new Error(`HTTP rule body names unknown field "${parts.bodyField}"`);
    if (parts.body !== undefined) json[bodyFieldDesc.jsonName] = parts.body;
  }

  if (parts.bodyField !== "*") {
    for (const key of new Set(parts.query.keys())) {
      const what = `query parameter "${key}"`;
      const fields = resolvePath(schema, key, what);
      if (bodyFieldDesc && fields[0] === bodyFieldDesc) {
        throw new BadRequestError(`${what}: "${bodyFieldDesc.name}" comes from the request body`);
      }
      if (parts.pathVariables.has(fields.map((f) => f.name).join("."))) continue; // the path wins
      setJson(json, fields, leafJson(fields.at(-1)!, parts.query.getAll(key), what));
    }
  } else if ([...parts.query.keys()].length > 0) {
    throw new BadRequestError(`query parameters are not accepted: the body is the whole request`);
  }

  for (const [path, value] of parts.pathVariables) {
    const what = `path variable "${path}"`;
    const fields = resolvePath(schema, path, what);
    setJson(json, fields, leafJson(fields.at(-1)!, [value], what));
  }

  try {
    return fromJson(schema, json);
  } catch (err) {
    // Name the field and what it takes; protobuf's own message names only a type.
    throw new BadRequestError(explainMessage(schema, json) ?? (err as Error).message);
  }
}
