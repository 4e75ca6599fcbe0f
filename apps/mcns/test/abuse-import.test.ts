// A hostile or buggy zone file through ImportZone: escapes that must come out as the bytes the file
// wrote (or be refused with their line), names that would fold into others, and whatever the file
// says, nothing changes when a line is refused (ListRecords, dig).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, importCommand, type Mcns, refusal, startMcns, ZONE } from "./harness.js";

let mcns: Mcns;

beforeAll(async () => {
  mcns = await startMcns();
});

afterAll(async () => {
  await mcns?.stop();
});

const importFile = (text: string) =>
  mcns.client().importZone({ zone: ZONE, text: `$ORIGIN ${ZONE}.\n${text}\n`, owner: "imp" });

describe("zone file text", () => {
  it("serves TXT and CAA escapes as the bytes the file wrote, quoted or not", async () => {
    // BIND writes non-ASCII bytes as \DDD: "café" in UTF-8 is caf\195\169.
    const result = await importFile(
      [
        'utf8 IN TXT "caf\\195\\169" "a\\"b" plain\\032word',
        'utf8 IN CAA 0 iodef "mailto:s\\195\\169cu@example.net"',
      ].join("\n"),
    );
    expect(result.created).toBe(2);
    expect((await dig(mcns.dnsPort, `utf8.${ZONE}`, "TXT")).answer).toEqual([
      `utf8.${ZONE}. 300 IN TXT "caf\\195\\169" "a\\"b" "plain word"`,
    ]);
    expect((await dig(mcns.dnsPort, `utf8.${ZONE}`, "CAA")).answer).toEqual([
      `utf8.${ZONE}. 300 IN CAA 0 iodef "mailto:s\\195\\169cu@example.net"`,
    ]);
    const { records } = await mcns.client().listRecords({ name: `utf8.${ZONE}` });
    expect(records.find((r) => r.data.case === "txt")?.data.value).toMatchObject({
      strings: ["café", 'a"b', "plain word"],
    });
  });

  it("refuses bytes that are not text and escapes that are not bytes, with their lines, importing nothing", async () => {
    const bad = await refusal(
      importFile(['ok IN TXT "fine"', 'bin IN TXT "\\255\\254"', 'big IN TXT "\\999"'].join("\n")),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain("line 3: a string is not UTF-8 text (TXT and CAA data are stored as text)");
    expect(bad.message).toContain("line 4: escape \\999 is not a byte (000-255)");
    for (const name of ["ok", "bin", "big"]) {
      expect((await dig(mcns.dnsPort, `${name}.${ZONE}`, "TXT")).status).toBe("NXDOMAIN");
    }
  });

  it("refuses whitespace that is not a blank, naming the line and the character (was an internal error)", async () => {
    for (const [blank, code] of [
      ["\u00a0", "00A0"],
      ["\r", "000D"],
      ["\f", "000C"],
    ]) {
      expect(await refusal(importFile(`nb${blank}IN A 192.0.2.1`))).toEqual({
        code: Code.InvalidArgument,
        message: `the zone file has a problem, nothing was imported: line 2: character U+${code} is not a field separator (use spaces or tabs)`,
      });
    }
    expect((await dig(mcns.dnsPort, `nb.${ZONE}`, "A")).status).toBe("NXDOMAIN");
  });

  it("stops reading a file that is wrong in bulk after 100 problems, at once", async () => {
    // Every line was tokenized and parsed first: 4 MB of bad lines took 22 s and 1 GB.
    const started = Date.now();
    const bulk = await refusal(importFile("x\n".repeat(2_000_000)));
    expect(bulk.code).toBe(Code.InvalidArgument);
    expect(bulk.message).toMatch(
      /^the zone file has 101 problems, nothing was imported: line 2: missing record type;/,
    );
    expect(bulk.message).toMatch(/; line 102: more than 100 problems; the rest of the file was not checked$/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("refuses names that are not ASCII instead of folding them into others", async () => {
    const bad = await refusal(importFile("\u212Aelvin IN A 192.0.2.1\nk\u0131 IN A 192.0.2.2"));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain(`line 2: name "\u212Aelvin.${ZONE}" is not ASCII`);
    expect(bad.message).toContain(`line 3: name "k\u0131.${ZONE}" is not ASCII`);
    expect((await dig(mcns.dnsPort, `kelvin.${ZONE}`, "A")).status).toBe("NXDOMAIN");
    expect((await mcns.client().listRecords({ zone: ZONE })).records.map((r) => r.name)).toEqual([
      `utf8.${ZONE}`,
      `utf8.${ZONE}`,
    ]);
  });
});

describe("mcns import (offline)", () => {
  it("checks thousands of delegations in a large zone in seconds", async () => {
    // Without the DNS index each NS record's check searched the whole zone: 2,000 delegations
    // into a 20,000-record zone took about 20 s.
    const file = (lines: string[]) => `$ORIGIN ${ZONE}.\n${lines.join("\n")}\n`;
    const hosts = Array.from({ length: 20_000 }, (_, i) => `h${i} IN A 10.1.${i >> 8}.${i & 255}`);
    await mcns.client().importZone({ zone: ZONE, text: file(hosts), owner: "hosts" });
    const path = join(mcns.dir, "cuts.zone");
    writeFileSync(path, file(Array.from({ length: 2000 }, (_, i) => `d${i} IN NS ns${i}.example.net.`)));
    const started = Date.now();
    const result = await importCommand(mcns, "--owner", "cuts", path);
    expect(result.stdout).toBe(
      `${path}: 2000 records imported, 0 already present, 0 skipped (SOA and apex NS come from the configuration)\n`,
    );
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
