/**
 * google.api.http path templates (see google/api/http.proto):
 *
 *     Template = "/" Segments [ Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;  Verb = ":" LITERAL ;
 *
 * A template compiles to an anchored regular expression over the raw (still percent-encoded) path, with
 * one capture group per variable.
 */
export interface PathTemplate {
  source: string;
  /** Field paths of the variables, in capture-group order, e.g. ["note.id"]. */
  variables: string[];
  verb: string | undefined;
  /** Literal segments: more of them makes a template more specific. */
  literalCount: number;
  regex: RegExp;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const fieldPathRe = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Splits on `sep` where it is outside braces. */
function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export function compileTemplate(source: string): PathTemplate {
  const fail = (why: string): never => {
    throw new Error(`bad HTTP path template "${source}": ${why}`);
  };
  if (!source.startsWith("/")) fail('it must start with "/"');
  const [path = "", verb, ...extra] = splitTopLevel(source.slice(1), ":");
  if (extra.length > 0) fail('more than one ":" verb');
  if (verb !== undefined && !/^[^/{}*]+$/.test(verb)) fail(`bad verb ":${verb}"`);
  const variables: string[] = [];
  let literalCount = 0;

  const segmentsRegex = (segments: string[], insideVariable: boolean): string =>
    segments
      .map((segment) => {
        if (segment === "") return fail("empty segment");
        if (segment === "*") return "[^/]+";
        if (segment === "**") return ".+";
        if (segment.startsWith("{")) {
          if (insideVariable) return fail("nested variable");
          if (!segment.endsWith("}")) return fail(`unclosed variable "${segment}"`);
          const [field = "", pattern] = segment.slice(1, -1).split(/=(.*)/s, 2);
          if (!fieldPathRe.test(field)) return fail(`bad field path "${field}"`);
          variables.push(field);
          const inner = pattern === undefined ? "[^/]+" : segmentsRegex(pattern.split("/"), true);
          return `(${inner})`;
        }
        if (/[{}*]/.test(segment)) return fail(`bad segment "${segment}"`);
        literalCount++;
        return escapeRegex(segment);
      })
      .join("/");

  const body = segmentsRegex(splitTopLevel(path, "/"), false);
  const verbRegex = verb === undefined ? "" : `:${escapeRegex(verb)}`;
  return { source, variables, verb, literalCount, regex: new RegExp(`^/${body}${verbRegex}$`) };
}

/** Matches a raw request path; returns the decoded variable values by field path, or undefined. */
export function matchTemplate(template: PathTemplate, rawPath: string): Map<string, string> | undefined {
  const match = template.regex.exec(rawPath);
  if (!match) return undefined;
  const values = new Map<string, string>();
  template.variables.forEach((field, i) => {
    values.set(field, decodeURIComponent(match[i + 1] ?? ""));
  });
  return values;
}
