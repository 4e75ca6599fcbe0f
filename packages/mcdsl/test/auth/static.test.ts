import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import {
  appendTokenEntry,
  formatTokenEntry,
  hashToken,
  loadStaticAuthenticator,
  mintToken,
  readTokenFile,
} from "../../src/auth/index.js";

const tempFile = () => join(mkdtempSync(join(tmpdir(), "mcdsl-auth-")), "tokens.toml");

describe("static tokens", () => {
  it("mints a high-entropy token whose entry stores only its SHA-256", () => {
    const { token, entry } = mintToken("agent", ["agent"]);
    expect(token).toMatch(/^mcp_[A-Za-z0-9_-]{43}$/);
    expect(entry).toEqual({ name: "agent", roles: ["agent"], sha256: hashToken(token) });
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(formatTokenEntry(entry)).not.toContain(token);
    expect(parse(formatTokenEntry(entry))).toEqual({ tokens: [entry] });
    expect(mintToken("agent", []).token).not.toBe(token);
  });

  it("appends entries to a 0600 file and authenticates their tokens", async () => {
    const file = tempFile();
    const agent = mintToken("agent", ["agent"]);
    const admin = mintToken("kyle", ["admin", "agent"]);
    appendTokenEntry(file, agent.entry);
    appendTokenEntry(file, admin.entry);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).not.toContain(agent.token);

    const auth = loadStaticAuthenticator(file);
    expect(await auth.authenticate(agent.token)).toEqual({ name: "agent", roles: ["agent"] });
    expect(await auth.authenticate(admin.token)).toEqual({ name: "kyle", roles: ["admin", "agent"] });
    expect(await auth.authenticate(`${agent.token}x`)).toBeUndefined();
    expect(await auth.authenticate("")).toBeUndefined();
  });

  it("refuses a group- or world-writable file", () => {
    const file = tempFile();
    appendTokenEntry(file, mintToken("a", []).entry);
    chmodSync(file, 0o664);
    expect(() => readTokenFile(file)).toThrow(
      `${file}: token file is group- or world-writable (mode 0664); chmod 600 it`,
    );
    chmodSync(file, 0o602);
    expect(() => readTokenFile(file)).toThrow(/world-writable \(mode 0602\)/);
    chmodSync(file, 0o644); // readable is fine: it holds hashes only
    expect(readTokenFile(file)).toHaveLength(1);
  });

  it("names the file, the entry and the problem for bad content", () => {
    const write = (text: string) => {
      const file = tempFile();
      writeFileSync(file, text, { mode: 0o600 });
      return file;
    };
    const badHash = write('[[tokens]]\nname = "a"\nroles = []\nsha256 = "abc"\n');
    expect(() => readTokenFile(badHash)).toThrow(
      `${badHash}:4: [tokens[0]] sha256: expected 64 hex digits (the token's SHA-256), got "abc"`,
    );
    const unknownKey = write(`[[tokens]]\nname = "a"\nsha256 = "${"a".repeat(64)}"\nrole = "admin"\n`);
    expect(() => readTokenFile(unknownKey)).toThrow(
      `${unknownKey}:4: [tokens[0]] role: unknown key (did you mean "roles"?)`,
    );
    const syntax = write("[[tokens]\nname = 1\n");
    expect(() => readTokenFile(syntax)).toThrow(`${syntax}:1:10: invalid TOML`);
    const dup = write(
      `[[tokens]]\nname = "a"\nsha256 = "${"b".repeat(64)}"\n[[tokens]]\nname = "c"\nsha256 = "${"B".repeat(64)}"\n`,
    );
    expect(() => readTokenFile(dup)).toThrow(`${dup}:6: [tokens[1]] sha256: same sha256 as token "a"`);
    const missing = join(tmpdir(), "no-such-dir-mcdsl", "tokens.toml");
    expect(() => readTokenFile(missing)).toThrow(`${missing}: cannot read the token file: ENOENT`);
  });
});
