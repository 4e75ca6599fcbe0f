// Says which field of a JSON request body protobuf refused, and why, in the body's own terms.
// @bufbuild/protobuf's fromJson names a type ("cannot decode enum mcproxy.v1.RouteMode from JSON:
// \"l5\""), not where it sits in the body; a person fixing a curl command needs `mode` and the
// values it takes. This runs only after fromJson failed, so it costs nothing on good requests.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromJson,
  type JsonValue,
  ScalarType,
} from "@bufbuild/protobuf";

const [INT32, UINT32] = ["an integer from -2147483648 to 2147483647", "an integer from 0 to 4294967295"];
const SCALAR_WORDS: Record<ScalarType, string> = {
  [ScalarType.STRING]: "a string",
  [ScalarType.BOOL]: "true or false",
  [ScalarType.BYTES]: "base64 text",
  [ScalarType.DOUBLE]: "a number",
  [ScalarType.FLOAT]: "a number",
  [ScalarType.INT32]: INT32,
  [ScalarType.SINT32]: INT32,
  [ScalarType.SFIXED32]: INT32,
  [ScalarType.UINT32]: UINT32,
  [ScalarType.FIXED32]: UINT32,
  [ScalarType.INT64]: "a 64-bit integer (a number or a string of digits)",
  [ScalarType.SINT64]: "a 64-bit integer (a number or a string of digits)",
  [ScalarType.SFIXED64]: "a 64-bit integer (a number or a string of digits)",
  [ScalarType.UINT64]: "an unsigned 64-bit integer (a number or a string of digits)",
  [ScalarType.FIXED64]: "an unsigned 64-bit integer (a number or a string of digits)",
};

/** What a field takes, for the message ("an integer", "one of: l4, l7"). */
function expected(field: DescField, kind: "scalar" | "enum" | "message", enumDesc?: DescEnum): string {
  if (kind === "enum" && enumDesc) {
    // The zero value named *_UNSPECIFIED means "not set": no request can choose it.
    const values = enumDesc.values.filter((v) => !(v.number === 0 && v.name.endsWith("_UNSPECIFIED")));
    return `one of: ${values.map((v) => v.name).join(", ")}`;
  }
  if (kind === "message") return `an object (${field.message?.typeName ?? "message"})`;
  const scalar = field.scalar ?? ScalarType.STRING;
  return SCALAR_WORDS[scalar];
}

function show(value: JsonValue): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Why `value` does not decode as the single field `key` of `schema` (protobuf's words), if so. */
function refusal(schema: DescMessage, key: string, value: JsonValue): string | undefined {
  try {
    fromJson(schema, { [key]: value });
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^cannot decode .*? from JSON: /, "");
  }
}

function decodes(schema: DescMessage, key: string, value: JsonValue): boolean {
  return refusal(schema, key, value) === undefined;
}

/** The first refused element of a list or map field: its path suffix and the reason. */
function explainElement(field: DescField, value: JsonValue, path: string): string | undefined {
  if (field.fieldKind === "list") {
    if (!Array.isArray(value)) return `${path}: expected a list, got ${show(value)}`;
    for (const [i, item] of value.entries()) {
      if (field.listKind === "message") {
        const inner = explainMessage(field.message, item, `${path}[${i}]`);
        if (inner) return inner;
      } else if (!decodes(field.parent, field.jsonName, [item])) {
        return `${path}[${i}]: expected ${expected(field, field.listKind, field.enum)}, got ${show(item)}`;
      }
    }
    return undefined;
  }
  if (field.fieldKind === "map") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return `${path}: expected an object, got ${show(value)}`;
    }
    for (const [key, item] of Object.entries(value)) {
      if (field.mapKind === "message") {
        const inner = explainMessage(field.message, item, `${path}.${key}`);
        if (inner) return inner;
      } else if (!decodes(field.parent, field.jsonName, { [key]: item })) {
        return `${path}.${key}: expected ${expected(field, field.mapKind, field.enum)}, got ${show(item)}`;
      }
    }
  }
  return undefined;
}

/**
 * The first field of `json` that `schema` refuses, as "path: what is wrong", or undefined when
 * every field decodes on its own (the error was about the whole message).
 */
export function explainMessage(schema: DescMessage, json: JsonValue, path = ""): string | undefined {
  const where = path === "" ? "request body" : path;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    // Well-known types (Timestamp, Duration...) have their own JSON forms: protobuf says best.
    if (schema.typeName.startsWith("google.protobuf.")) return undefined;
    return `${where}: expected an object (${schema.typeName}), got ${show(json)}`;
  }
  for (const [key, value] of Object.entries(json)) {
    const field = schema.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) {
      const known = schema.fields.map((f) => f.jsonName).join(", ");
      return `${path === "" ? key : `${path}.${key}`}: no such field in ${schema.typeName} (its fields: ${known || "none"})`;
    }
    // Query parameters and path variables use the proto name: say both when they differ.
    const label = field.name === key ? key : `${key} (${field.name})`;
    const name = path === "" ? label : `${path}.${label}`;
    if (value === null) continue;
    const refused = refusal(schema, key, value);
    if (refused === undefined) continue;
    switch (field.fieldKind) {
      case "message":
        // Well-known types (Timestamp, Duration...) have JSON forms of their own: protobuf's reason.
        return (
          explainMessage(field.message, value, name) ??
          `${name}: ${show(value)} is not a ${field.message.typeName} (${refused})`
        );
      case "list":
      case "map":
        return explainElement(field, value, name) ?? `${name}: ${refused}`;
      case "enum":
        return `${name}: ${show(value)} is not ${expected(field, "enum", field.enum)}`;
      case "scalar":
        return `${name}: expected ${expected(field, "scalar")}, got ${show(value)}`;
    }
  }
  return undefined;
}
