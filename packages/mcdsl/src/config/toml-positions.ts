import type { KeyPath } from "./errors.js";

/** 1-based line and column in a source text. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Where each key of a TOML document is written. smol-toml gives values without positions, so
 * this scanner reads the (already parsed, hence valid) text once more and records the position
 * of every key, table header, array-of-tables element and array element under its key path:
 * `[[components]]` elements get their index, `[[components.routes]]` nests under the current
 * component, dotted keys and inline tables expand to full paths.
 */
export class SourcePositions {
  private readonly byPath = new Map<string, Position>();

  /** Records the first place a path appears (a table header before the keys that extend it). */
  set(path: KeyPath, position: Position): void {
    const key = JSON.stringify(path);
    if (!this.byPath.has(key)) this.byPath.set(key, position);
  }

  /** The position of the path itself, or of the nearest enclosing key or table written in the file. */
  find(path: KeyPath): Position | undefined {
    for (let end = path.length; end > 0; end--) {
      const found = this.byPath.get(JSON.stringify(path.slice(0, end)));
      if (found) return found;
    }
    return undefined;
  }

  /** The position of exactly this path, if the file writes it. */
  exact(path: KeyPath): Position | undefined {
    return this.byPath.get(JSON.stringify(path));
  }
}

type Path = (string | number)[];

/** Scans a TOML text (which must already have parsed) for the positions of its keys. */
export function scanPositions(text: string): SourcePositions {
  return new Scanner(text).run();
}

class Scanner {
  private i = 0;
  private readonly positions = new SourcePositions();
  private readonly lineStarts: number[] = [0];
  /** Element counts of arrays of tables, by the JSON of their resolved path. */
  private readonly arrayTables = new Map<string, number>();

  constructor(private readonly text: string) {
    for (let k = 0; k < text.length; k++) if (text[k] === "\n") this.lineStarts.push(k + 1);
  }

  run(): SourcePositions {
    let table: Path = [];
    while (this.i < this.text.length) {
      const before = this.i;
      this.skipBlank(true);
      if (this.i >= this.text.length) break;
      const at = this.position();
      if (this.text.startsWith("[[", this.i)) {
        this.i += 2;
        table = this.arrayTableHeader(this.readKey(), at);
        this.skipPast("]]");
      } else if (this.text[this.i] === "[") {
        this.i += 1;
        table = this.resolve(this.readKey());
        this.positions.set(table, at);
        this.skipPast("]");
      } else {
        this.keyValue(table);
      }
      this.skipToLineEnd();
      if (this.i === before) this.i++; // never loop on text this scanner does not understand
    }
    return this.positions;
  }

  /** `[[a.b]]`: a new element of the array of tables a.b, under the current element of a. */
  private arrayTableHeader(segments: string[], at: Position): Path {
    const parent = this.resolve(segments.slice(0, -1));
    const arrayPath = [...parent, segments[segments.length - 1] ?? ""];
    const key = JSON.stringify(arrayPath);
    const index = this.arrayTables.get(key) ?? 0;
    this.arrayTables.set(key, index + 1);
    this.positions.set(arrayPath, at);
    const element = [...arrayPath, index];
    this.positions.set(element, at);
    return element;
  }

  /** Table names to a path, stepping into the last element of every array of tables on the way. */
  private resolve(segments: string[]): Path {
    const path: Path = [];
    for (const segment of segments) {
      path.push(segment);
      const count = this.arrayTables.get(JSON.stringify(path));
      if (count !== undefined) path.push(count - 1);
    }
    return path;
  }

  /** `a.b = value` under `base`; records `a`, `a.b` and whatever the value holds. */
  private keyValue(base: Path): void {
    const at = this.position();
    const segments = this.readKey();
    const path = [...base];
    for (const segment of segments) {
      path.push(segment);
      this.positions.set(path, at);
    }
    this.skipInline();
    if (this.text[this.i] === "=") this.i++;
    this.skipInline();
    this.value(path);
  }

  private value(path: Path): void {
    const c = this.text[this.i];
    if (c === "[") this.array(path);
    else if (c === "{") this.inlineTable(path);
    else if (c === '"' || c === "'") this.string();
    // Numbers, booleans, dates (which may contain a space): up to the next delimiter.
    else while (this.i < this.text.length && !",]}#\n\r".includes(this.text[this.i] ?? "")) this.i++;
  }

  private array(path: Path): void {
    this.i++; // [
    for (let index = 0; ; index++) {
      this.skipBlank(true);
      if (this.i >= this.text.length || this.text[this.i] === "]") break;
      const element = [...path, index];
      this.positions.set(element, this.position());
      const before = this.i;
      this.value(element);
      this.skipBlank(true);
      if (this.text[this.i] === ",") this.i++;
      else if (this.i === before) this.i++;
    }
    this.i++; // ]
  }

  private inlineTable(path: Path): void {
    this.i++; // {
    for (;;) {
      this.skipBlank(true);
      if (this.i >= this.text.length || this.text[this.i] === "}") break;
      const before = this.i;
      this.keyValue(path);
      this.skipBlank(true);
      if (this.text[this.i] === ",") this.i++;
      else if (this.i === before) this.i++;
    }
    this.i++; // }
  }

  /** Skips a string value of any of the four kinds. */
  private string(): void {
    const quote = this.text[this.i] ?? '"';
    const escapes = quote === '"';
    const triple = quote.repeat(3);
    if (this.text.startsWith(triple, this.i)) {
      this.i += 3;
      while (this.i < this.text.length && !this.text.startsWith(triple, this.i)) {
        this.i += escapes && this.text[this.i] === "\\" ? 2 : 1;
      }
      this.i += 3;
      // A multi-line string may end with up to two more quotes that belong to its content.
      for (let extra = 0; extra < 2 && this.text[this.i] === quote; extra++) this.i++;
      return;
    }
    this.i++;
    while (this.i < this.text.length && this.text[this.i] !== quote && this.text[this.i] !== "\n") {
      this.i += escapes && this.text[this.i] === "\\" ? 2 : 1;
    }
    this.i++;
  }

  /** A dotted key (`a."b.c".d`) as its parts, unquoted. */
  private readKey(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipInline();
      const c = this.text[this.i];
      if (c === '"' || c === "'") {
        const start = this.i;
        this.string();
        parts.push(unquote(this.text.slice(start, this.i)));
      } else {
        const start = this.i;
        while (this.i < this.text.length && /[A-Za-z0-9_-]/.test(this.text[this.i] ?? "")) this.i++;
        parts.push(this.text.slice(start, this.i));
      }
      this.skipInline();
      if (this.text[this.i] !== ".") return parts;
      this.i++;
    }
  }

  private skipInline(): void {
    while (this.text[this.i] === " " || this.text[this.i] === "\t") this.i++;
  }

  /** Whitespace and comments, across lines when `newlines` is set. */
  private skipBlank(newlines: boolean): void {
    for (;;) {
      const c = this.text[this.i];
      if (c === " " || c === "\t" || (newlines && (c === "\n" || c === "\r"))) this.i++;
      else if (c === "#") this.skipToLineEnd();
      else return;
    }
  }

  private skipPast(token: string): void {
    const end = this.text.indexOf(token, this.i);
    this.i = end < 0 ? this.text.length : end + token.length;
  }

  private skipToLineEnd(): void {
    const end = this.text.indexOf("\n", this.i);
    this.i = end < 0 ? this.text.length : end + 1;
  }

  private position(): Position {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= this.i) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: this.i - (this.lineStarts[low] ?? 0) + 1 };
  }
}

/** The text of a quoted key: basic strings with JSON-compatible escapes, literal strings as written. */
function unquote(quoted: string): string {
  if (quoted.startsWith("'")) return quoted.slice(1, -1);
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}
