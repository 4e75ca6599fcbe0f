// RFC 1035 section 5 master files (zone files), as the old CoreDNS-based MCNS served them: $ORIGIN,
// $TTL, comments, parentheses across lines, quoted strings with escapes, "@", relative names, an
// omitted owner (the previous one), TTL and class in either order. A bad line is reported with its
// number and parsing goes on, so one pass finds every problem; a broken structure (a parenthesis
// never closed) stops it.
import { normalizeName } from "../records/validate.js";
import type { RecordData } from "../store/record.js";

export interface ZoneFileRecord {
  line: number;
  /** Fully qualified, lower case, no trailing dot. */
  name: string;
  /** undefined: no TTL in the file ($TTL or the previous record's TTL applies, else the zone default). */
  ttl?: number;
  /** SOA records are reported so the importer can say it skipped them. */
  data: RecordData | { type: "SOA" };
}

/** A line the importer refuses, and why (the message names no file: callers add it). */
export interface ZoneFileProblem {
  line: number;
  message: string;
}

export interface ParsedZoneFile {
  records: ZoneFileRecord[];
  problems: ZoneFileProblem[];
}

class ZoneFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "ZoneFileError";
  }
}

interface Entry {
  line: number;
  /** The line began with white space: the owner is the previous one. */
  blankOwner: boolean;
  tokens: { text: string; quoted: boolean }[];
}

/** Past this many problems the rest is not read: the file is wrong in bulk. */
export const MAX_PROBLEMS = 100;

/**
 * The text's entries (one per logical line, parentheses joined, quotes removed), made as they are
 * asked for, so parsing can stop early: 4 MiB of bad lines took 22 s and 1 GB when all were read.
 */
function* entries(text: string): Generator<Entry> {
  let current: Entry | undefined;
  let depth = 0;
  let i = 0;
  for (let start = 0; start <= text.length; i++) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(start, text[end - 1] === "\r" ? end - 1 : end);
    start = end + 1;
    if (depth === 0) current = { line: i + 1, blankOwner: /^[ \t]/.test(line), tokens: [] };
    let p = 0;
    while (p < line.length) {
      const c = line[p]!;
      if (c === " " || c === "\t") p++;
      else if (c === ";") break;
      else if (c === "(") {
        depth++;
        p++;
      } else if (c === ")") {
        if (depth === 0) throw new ZoneFileError(i + 1, "')' without '('");
        depth--;
        p++;
      } else if (c === '"') {
        let end = p + 1;
        while (end < line.length && line[end] !== '"') end += line[end] === "\\" ? 2 : 1;
        if (end >= line.length) throw new ZoneFileError(i + 1, "unterminated quoted string");
        // Escapes are resolved where the text is used (textOf), so a bad one is that line's problem.
        current!.tokens.push({ text: line.slice(p + 1, end), quoted: true });
        p = end + 1;
      } else if (/\s/.test(c)) {
        // A no-break space pasted from a web page, a lone CR, a form feed: not blanks (RFC 1035 5.1).
        const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new ZoneFileError(i + 1, `character U+${code} is not a field separator (use spaces or tabs)`);
      } else {
        const m = /^[^\s;()"]+/.exec(line.slice(p))!;
        current!.tokens.push({ text: m[0], quoted: false });
        p += m[0].length;
      }
    }
    if (depth === 0 && current && current.tokens.length > 0) yield current;
  }
  if (depth > 0) throw new ZoneFileError(current?.line ?? i, "'(' is never closed");
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Text as a master file writes it, escapes resolved: \X is X, \DDD one byte (RFC 1035 5.1; BIND
 * writes "é" as "\195\169"). TXT and CAA data are stored as text, so the bytes are read as UTF-8:
 * such a file imports as written, and bytes that are not UTF-8 are refused rather than changed.
 */
function textOf(raw: string, line: number): string {
  if (!raw.includes("\\")) return raw;
  const bytes: number[] = [];
  for (let p = 0; p < raw.length; ) {
    const escaped = raw[p] === "\\";
    const digits = escaped ? /^\d{3}/.exec(raw.slice(p + 1)) : null;
    if (digits) {
      const byte = Number(digits[0]);
      if (byte > 255) throw new ZoneFileError(line, `escape \\${digits[0]} is not a byte (000-255)`);
      bytes.push(byte);
      p += 4;
      continue;
    }
    if (escaped) p++;
    const code = raw.codePointAt(p);
    if (code === undefined) break;
    if (code < 0x80) bytes.push(code);
    else bytes.push(...Buffer.from(String.fromCodePoint(code)));
    p += code > 0xffff ? 2 : 1;
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new ZoneFileError(line, "a string is not UTF-8 text (TXT and CAA data are stored as text)");
  }
}

const CLASSES = new Set(["IN", "CH", "HS", "CS"]);
const TYPES = new Set(["A", "AAAA", "CNAME", "TXT", "SRV", "MX", "NS", "CAA", "SOA"]);

/** TTLs as seconds or BIND's units: "3600", "1h", "1h30m", "2d". */
function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[smhdw])+$/i.test(text)) return undefined;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+)([smhdw])/gi)) total += Number(n) * unit[u!.toLowerCase()]!;
  return total;
}

/** Parses a whole master file; `origin` is the $ORIGIN until the file sets one. */
export function parseZoneFile(text: string, origin?: string): ParsedZoneFile {
  const state: ParserState = { origin: origin === undefined ? undefined : normalizeName(origin) };
  const records: ZoneFileRecord[] = [];
  const problems: ZoneFileProblem[] = [];
  const all = entries(text);
  for (;;) {
    let next: IteratorResult<Entry>;
    try {
      next = all.next();
    } catch (err) {
      // A broken structure (a quote or parenthesis never closed) ends the file here.
      if (!(err instanceof ZoneFileError)) throw err;
      return { records: [], problems: [...problems, { line: err.line, message: err.message }] };
    }
    if (next.done || problems.length > MAX_PROBLEMS) break;
    try {
      const record = parseEntry(next.value, state);
      if (record) records.push(record);
    } catch (err) {
      if (!(err instanceof ZoneFileError)) throw err;
      problems.push({ line: err.line, message: err.message });
    }
  }
  return { records, problems };
}

/** What earlier lines set for later ones. */
interface ParserState {
  origin?: string;
  defaultTtl?: number;
  lastTtl?: number;
  owner?: string;
}

/** One entry: a record, or undefined for a directive. Throws ZoneFileError for a bad entry. */
function parseEntry(entry: Entry, state: ParserState): ZoneFileRecord | undefined {
  const fail = (message: string): never => {
    throw new ZoneFileError(entry.line, message);
  };
  const absolute = (name: string): string => {
    if (name === "@")
      return state.origin ?? fail("'@' used before $ORIGIN is known (give the zone or set $ORIGIN)");
    if (name.endsWith(".")) return normalizeName(name);
    if (state.origin === undefined)
      fail(`relative name "${name}" before $ORIGIN is known (give the zone or set $ORIGIN)`);
    return normalizeName(`${name}.${state.origin}`);
  };
  const tokens = entry.tokens.map((t) => t.text);
  const first = tokens[0]!;
  if (!entry.tokens[0]!.quoted && first.startsWith("$")) {
    const directive = first.toUpperCase();
    if (directive === "$ORIGIN") state.origin = absolute(tokens[1] ?? fail("$ORIGIN needs a name"));
    else if (directive === "$TTL") {
      state.defaultTtl = parseTtl(tokens[1] ?? "") ?? fail(`$TTL "${tokens[1] ?? ""}" is not a TTL`);
    } else fail(`${first} is not supported (only $ORIGIN and $TTL)`);
    return undefined;
  }

  let rest = entry.tokens;
  if (!entry.blankOwner) {
    state.owner = absolute(first);
    rest = rest.slice(1);
  } else if (state.owner === undefined) fail("the first record needs an owner name");
  let ttl: number | undefined;
  while (rest.length > 0 && !rest[0]!.quoted) {
    const word = rest[0]!.text;
    const asTtl = parseTtl(word);
    if (asTtl !== undefined && ttl === undefined) ttl = asTtl;
    else if (CLASSES.has(word.toUpperCase())) {
      if (word.toUpperCase() !== "IN") fail(`class ${word.toUpperCase()} is not supported (only IN)`);
    } else break;
    rest = rest.slice(1);
  }
  const type = rest[0]?.text.toUpperCase() ?? fail("missing record type");
  if (!TYPES.has(type)) fail(`record type ${type} is not supported (A, AAAA, CNAME, TXT, SRV, MX, NS, CAA)`);
  const args = rest.slice(1);
  const words = args.map((t) => t.text);
  const need = (n: number) => {
    if (args.length !== n) fail(`${type} needs ${n} value${n > 1 ? "s" : ""}, got ${args.length}`);
  };
  const num = (text: string, what: string): number =>
    /^\d+$/.test(text) ? Number(text) : fail(`${what} "${text}" is not a number`);
  const effectiveTtl = ttl ?? state.defaultTtl ?? state.lastTtl;
  if (ttl !== undefined) state.lastTtl = ttl;

  let data: ZoneFileRecord["data"];
  switch (type) {
    case "SOA":
      need(7);
      data = { type: "SOA" };
      if (state.origin === undefined) state.origin = state.owner;
      break;
    case "A":
    case "AAAA":
      need(1);
      data = { type, address: words[0]! };
      break;
    case "CNAME":
    case "NS":
      need(1);
      data = { type, target: absolute(words[0]!) };
      break;
    case "MX":
      need(2);
      data = {
        type: "MX",
        preference: num(words[0]!, "preference"),
        exchange: words[1] === "." ? "." : absolute(words[1]!),
      };
      break;
    case "SRV":
      need(4);
      data = {
        type: "SRV",
        priority: num(words[0]!, "priority"),
        weight: num(words[1]!, "weight"),
        port: num(words[2]!, "port"),
        target: words[3] === "." ? "." : absolute(words[3]!),
      };
      break;
    case "TXT":
      if (args.length === 0) fail("TXT needs at least one string");
      data = { type: "TXT", strings: words.map((w) => textOf(w, entry.line)) };
      break;
    default: // CAA
      need(3);
      data = {
        type: "CAA",
        flags: num(words[0]!, "flags"),
        tag: words[1]!,
        value: textOf(words[2]!, entry.line),
      };
  }
  return { line: entry.line, name: state.owner!, ttl: effectiveTtl, data };
}
