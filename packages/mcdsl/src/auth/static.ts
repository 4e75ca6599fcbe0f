import { timingSafeEqual } from "node:crypto";
import { statSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../config/errors.js";
import { readTomlFile } from "../config/toml-source.js";
import { checkSchema, issueAt } from "../config/validate.js";
import type { Authenticator, Identity } from "./identity.js";
import { hashToken, type TokenEntry } from "./tokens.js";

const tokenFileSchema = z
  .object({
    tokens: z
      .array(
        z
          .object({
            name: z.string().min(1, "name must not be empty"),
            roles: z.array(z.string().min(1)).default([]),
            sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex digits (the token's SHA-256)"),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

/** Accepts the tokens whose SHA-256 is listed; compares digests in constant time. */
export function createStaticAuthenticator(entries: TokenEntry[]): Authenticator {
  const digests = entries.map((e) => ({
    digest: Buffer.from(e.sha256, "hex"),
    identity: { name: e.name, roles: [...e.roles] } satisfies Identity,
  }));
  return {
    async authenticate(token) {
      const presented = Buffer.from(hashToken(token), "hex");
      let found: Identity | undefined;
      // Look at every entry so timing does not reveal how far down the list a match is.
      for (const { digest, identity } of digests) {
        if (timingSafeEqual(digest, presented) && !found) found = identity;
      }
      return found && { name: found.name, roles: [...found.roles] };
    },
  };
}

/**
 * Reads a static token file (`[[tokens]] name roles sha256`). Refuses a group- or world-writable file:
 * whoever can write it can grant themselves any role. Problems are a ConfigError with file and line.
 */
export function readTokenFile(path: string): TokenEntry[] {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    throw new ConfigError([
      { file: path, path: [], message: `cannot read the token file: ${(err as Error).message}` },
    ]);
  }
  if (mode & 0o022) {
    const octal = mode.toString(8).padStart(4, "0");
    throw new ConfigError([
      {
        file: path,
        path: [],
        message: `token file is group- or world-writable (mode ${octal}); chmod 600 it`,
      },
    ]);
  }
  const source = readTomlFile(path)!;
  const context = { file: path, positions: source.positions };
  const result = checkSchema(tokenFileSchema, source.data, context);
  if (!result.ok) throw new ConfigError(result.issues);
  const seen = new Map<string, string>();
  const issues = result.value.tokens.flatMap((entry, i) => {
    const digest = entry.sha256.toLowerCase();
    const other = seen.get(digest);
    seen.set(digest, entry.name);
    return other === undefined
      ? []
      : [issueAt(context, ["tokens", i, "sha256"], `same sha256 as token "${other}": one token, two names`)];
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return result.value.tokens;
}

/** The `static` authenticator: tokens from a TOML file of hashes. */
export function loadStaticAuthenticator(path: string): Authenticator {
  return createStaticAuthenticator(readTokenFile(path));
}
