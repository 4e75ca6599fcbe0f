import * as z from "zod";
import type { ConfigIssue, KeyPath } from "./errors.js";
import {
  acceptsExtraKeys,
  describe,
  schemaAt,
  showValue,
  tableShape,
  unwrap,
  valueAt,
} from "./schema-walk.js";
import { nearest } from "./suggest.js";
import type { SourcePositions } from "./toml-positions.js";

type Schema = z.core.$ZodType;

/**
 * Where values came from when it was not the file: `$MCNS_DNS_PORT` for `[dns] port`. An issue
 * about such a key (or anything inside it) names the variable instead of a line.
 */
export class ValueOrigins {
  private readonly byPath = new Map<string, string>();

  set(path: KeyPath, origin: string): void {
    this.byPath.set(JSON.stringify(path), origin);
  }

  find(path: KeyPath): string | undefined {
    for (let end = path.length; end > 0; end--) {
      const found = this.byPath.get(JSON.stringify(path.slice(0, end)));
      if (found) return found;
    }
    return undefined;
  }
}

/** What an issue needs to say where it is. */
export interface IssueContext {
  file?: string;
  positions?: SourcePositions;
  origins?: ValueOrigins;
}

/** An issue about a key, placed at the key's line (or its variable, when the value came from one). */
export function issueAt(context: IssueContext, path: KeyPath, message: string): ConfigIssue {
  const source = context.origins?.find(path);
  if (source) return { source, path, message };
  const position = context.positions?.find(path);
  return { file: context.file, line: position?.line, column: position?.column, path, message };
}

export type CheckResult<T> = { ok: true; value: T } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates parsed data against a schema: every wrong type, out-of-range value and unknown key
 * (with the nearest known key as a hint) becomes an issue at its line; defaults are applied.
 */
export function checkSchema<S extends z.ZodType>(
  schema: S,
  data: unknown,
  context: IssueContext,
): CheckResult<z.output<S>> {
  const issues = unknownKeys(schema, data, [], context);
  const result = schema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      // Unknown keys are reported above, with a suggestion; zod's strict objects would repeat them.
      if (issue.code === "unrecognized_keys") continue;
      issues.push(issueAt(context, issue.path as KeyPath, explain(schema, data, issue)));
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: (result as { data: z.output<S> }).data };
}

/** Keys the schema does not know, in any table the data and the schema both have. */
function unknownKeys(schema: Schema, data: unknown, path: KeyPath, context: IssueContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const inner = unwrap(schema);
  if (Array.isArray(data) && inner instanceof z.ZodArray) {
    data.forEach((element, index) => {
      issues.push(...unknownKeys(inner.element as Schema, element, [...path, index], context));
    });
    return issues;
  }
  if (!isTable(data)) return issues;
  if (inner instanceof z.ZodRecord) {
    for (const [key, value] of Object.entries(data)) {
      issues.push(...unknownKeys(inner._zod.def.valueType as Schema, value, [...path, key], context));
    }
    return issues;
  }
  const shape = tableShape(inner);
  if (!shape) return issues;
  const extraAllowed = acceptsExtraKeys(inner);
  for (const [key, value] of Object.entries(data)) {
    const field = shape[key];
    if (field) {
      issues.push(...unknownKeys(field, value, [...path, key], context));
    } else if (!extraAllowed) {
      const hint = nearest(key, Object.keys(shape));
      issues.push(issueAt(context, [...path, key], `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}`));
    }
  }
  return issues;
}

/** A zod issue as a sentence that says what was expected and what the file has. */
function explain(schema: Schema, data: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path as KeyPath;
  const value = valueAt(data, path);
  const expected = schemaAt(schema, path);
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return "required key is missing";
      return `expected ${expected ? describe(expected) : issue.expected}, got ${showValue(value)}`;
    case "too_small":
    case "too_big":
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") {
        return `expected ${expected ? describe(expected) : "a number in range"}, got ${showValue(value)}`;
      }
      return `${sizeLimit(issue)}, got ${sizeOf(value)}`;
    case "invalid_value": {
      const options = issue.values.map((v) => JSON.stringify(v)).join(", ");
      const strings = issue.values.filter((v): v is string => typeof v === "string");
      const hint = typeof value === "string" ? nearest(value, strings) : undefined;
      return `expected one of ${options}, got ${showValue(value)}${hint ? ` (did you mean "${hint}"?)` : ""}`;
    }
    case "invalid_union":
      return `expected ${expected ? describe(expected) : "a valid value"}, got ${showValue(value)}`;
    case "invalid_format":
      // Formats carry the app's own message ("expected host:port …"); the value goes after it.
      return `${issue.message}, got ${showValue(value)}`;
    default:
      // Custom checks and formats carry the app's own message.
      return issue.message;
  }
}

function sizeLimit(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const unit = issue.origin === "string" ? "characters" : "items";
  if (issue.code === "too_small") return `expected at least ${issue.minimum} ${unit}`;
  return `expected at most ${issue.maximum} ${unit}`;
}

function sizeOf(value: unknown): string {
  if (typeof value === "string") return `${value.length}`;
  if (Array.isArray(value)) return `${value.length}`;
  return showValue(value);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
