import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { stringify } from "smol-toml";

/** One `[[tokens]]` entry of a static token file: only the token's SHA-256 is stored. */
export interface TokenEntry {
  name: string;
  roles: string[];
  sha256: string;
}

/** Hex SHA-256 of a token. Tokens are 256-bit random strings, so a plain hash is enough (no KDF). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A fresh random bearer token and the entry that lets a static authenticator accept it. */
export function mintToken(name: string, roles: string[]): { token: string; entry: TokenEntry } {
  const token = `mcp_${randomBytes(32).toString("base64url")}`;
  return { token, entry: { name, roles: [...roles], sha256: hashToken(token) } };
}

/** The TOML text of one entry, `[[tokens]]` table included. */
export function formatTokenEntry(entry: TokenEntry): string {
  return stringify({ tokens: [entry] });
}

/** Appends an entry to a token file, creating it (mode 0600) and its directory (0700) when missing. */
export function appendTokenEntry(path: string, entry: TokenEntry): void {
  const text = `${formatTokenEntry(entry)}\n`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) appendFileSync(path, `\n${text}`);
  else writeFileSync(path, text, { mode: 0o600 });
}
