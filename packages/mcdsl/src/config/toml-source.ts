import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { ConfigError } from "./errors.js";
import { type SourcePositions, scanPositions } from "./toml-positions.js";

/** A parsed TOML document with the positions of its keys. */
export interface TomlSource {
  /** The file name used in error messages. */
  file: string;
  data: Record<string, unknown>;
  positions: SourcePositions;
}

/**
 * Parses TOML text. A syntax error becomes a ConfigError at smol-toml's line and column:
 * `hello.toml:3:9: invalid TOML: …`.
 */
export function parseTomlSource(text: string, file: string): TomlSource {
  let data: Record<string, unknown>;
  try {
    // "throw" refuses __proto__/constructor keys instead of keeping them on the result.
    data = parse(text, { unsafeKeyBehaviour: "throw" }) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    throw new ConfigError([
      {
        file,
        line: error.line,
        column: error.column,
        path: [],
        message: `invalid TOML: ${firstLine(error.message)}`,
        syntax: true,
      },
    ]);
  }
  return { file, data, positions: scanPositions(text) };
}

/**
 * Reads and parses a TOML file. Returns undefined for a missing file when `optional` is set;
 * any other read failure is a ConfigError naming the file.
 */
export function readTomlFile(file: string, optional = false): TomlSource | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && optional) return undefined;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new ConfigError([{ file, path: [], message: `cannot read the file: ${reason}` }]);
  }
  return parseTomlSource(text, file);
}

/** smol-toml appends a code excerpt after the first line; the position is reported separately. */
function firstLine(message: string): string {
  const line = message.split("\n")[0]?.trim() ?? message;
  return line.replace(/^Invalid TOML document: /, "");
}
