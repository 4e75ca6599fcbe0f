/**
 * Characters a value cannot carry to podman: argv and env-file entries are C strings (a NUL
 * ends them, or podman refuses them), and an env-file is one `KEY=VALUE` per line.
 */

/** The first character of `value` in `forbidden` described (`a NUL (U+0000) at offset 3`), or undefined. */
export function forbiddenCharacter(value: string, forbidden: RegExp): string | undefined {
  const match = forbidden.exec(value);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  const name = NAMES[code] ?? "a control character";
  return `${name} (U+${code.toString(16).toUpperCase().padStart(4, "0")}) at offset ${match.index}`;
}

const NAMES: Record<number, string> = { 0: "a NUL", 9: "a tab", 10: "a line feed", 13: "a carriage return" };

/** Any C0 control character or DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const CONTROL = /[\u0000-\u001f\u007f]/;
/** What an argument cannot hold: a NUL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const NUL = /\u0000/;
/** What an env-file line cannot hold: a NUL or a line break. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const LINE_BREAK_OR_NUL = /[\u0000\n\r]/;
