/** A key's path in a TOML document: table and key names, and array indexes. */
export type KeyPath = readonly (string | number)[];

/** One problem in a configuration (or service-definition) file, with where it is. */
export interface ConfigIssue {
  /** The file the value came from (absent when there is no file, e.g. text given in memory). */
  file?: string;
  /** 1-based line and column of the key in `file`, where known. */
  line?: number;
  column?: number;
  /**
   * Where the value came from when that was not the file: an environment variable such as
   * `$MCNS_DNS_PORT`. It replaces `file:line` in the message.
   */
  source?: string;
  /** The key the problem is about; empty for the file as a whole. */
  path: KeyPath;
  /** The reason, for people: `expected a number from 1 to 65535, got "53x"`. */
  message: string;
  /** True for TOML syntax errors: their message shows the column too. */
  syntax?: boolean;
}

/**
 * The error every config and service-definition loader throws. Its message has one line per
 * issue, each `file:line: [table] key: reason`; `issues` keeps them as values for callers that
 * want to present them differently.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(sortIssues(issues).map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = sortIssues(issues);
  }
}

/** `file:12: [dns] port: expected …` (syntax errors: `file:12:5: …`). */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.source ?? formatLocation(issue);
  const key = formatKeyPath(issue.path);
  return `${where}: ${key ? `${key}: ` : ""}${issue.message}`;
}

function formatLocation(issue: ConfigIssue): string {
  const file = issue.file ?? "<config>";
  if (issue.line === undefined) return file;
  if (issue.syntax && issue.column !== undefined) return `${file}:${issue.line}:${issue.column}`;
  return `${file}:${issue.line}`;
}

/**
 * A key path the way the TOML file spells it: the table in brackets, then the key.
 * `[dns, port]` → `[dns] port`; `[components, 0, routes, 1, port]` → `[components[0].routes[1]] port`;
 * `[dns, forwarders, 2]` → `[dns] forwarders[2]`; `[name]` → `name`.
 */
export function formatKeyPath(path: KeyPath): string {
  // The key is the last name in the path, with any array indexes after it.
  let keyStart = path.length - 1;
  while (keyStart > 0 && typeof path[keyStart] === "number") keyStart--;
  const table = joinPath(path.slice(0, keyStart));
  const key = joinPath(path.slice(keyStart));
  return table ? `[${table}] ${key}` : key;
}

function joinPath(path: KeyPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += (out ? "." : "") + (/^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part));
  }
  return out;
}

/** File order, then line order, so the message reads top to bottom. */
function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort(
    (a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") ||
      (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}
