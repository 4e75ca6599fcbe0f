// `mcns import` (offline, on the database file) on a zone file as the old MCNS served it, then the
// real server answering from it after a restart. The online import (ImportZone) is import-api.test.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, importCommand, type Mcns, startMcns, ZONE } from "./harness.js";

let mcns: Mcns;

beforeAll(async () => {
  mcns = await startMcns();
});
afterAll(async () => {
  await mcns?.stop();
});

const zoneFile = `; the old MCNS's zone, as CoreDNS served it
$ORIGIN ${ZONE}.
$TTL 1h
@       IN SOA ns1.mcp.test. hostmaster.mcp.test. (
            2024010101 ; serial
            3600 600 1209600 300 )
        IN NS  ns1.mcp.test.
@       IN MX  10 mail
mail    600 IN A 192.0.2.25
        IN AAAA 2001:DB8::25
web     IN CNAME mail
txt     IN TXT "v=spf1 \\"quoted\\" -all" "two"
_xmpp._tcp IN SRV 5 0 5269 mail.${ZONE}.
@       CAA 0 issue "letsencrypt.org"
`;

const mcnsImport = (...args: string[]) => importCommand(mcns, ...args);

describe("mcns import", () => {
  it("imports a zone file with the API's rules, safely twice, and the server answers from it", async () => {
    const file = join(mcns.dir, "old.zone");
    writeFileSync(file, zoneFile);
    const dry = await mcnsImport("--dry-run", file);
    expect(dry.stdout).toContain("7 records would be imported, 0 already present, 2 skipped");
    const first = await mcnsImport(file);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain("7 records imported, 0 already present, 2 skipped");
    expect((await mcnsImport("--owner", "import", file)).stdout).toContain(
      "0 records imported, 7 already present",
    );

    await mcns.restart();
    expect((await dig(mcns.dnsPort, `web.${ZONE}`, "AAAA")).answer).toEqual([
      `web.${ZONE}. 3600 IN CNAME mail.${ZONE}.`,
      `mail.${ZONE}. 3600 IN AAAA 2001:db8::25`,
    ]);
    expect((await dig(mcns.dnsPort, `mail.${ZONE}`, "A")).answer).toEqual([
      `mail.${ZONE}. 600 IN A 192.0.2.25`,
    ]);
    expect((await dig(mcns.dnsPort, `txt.${ZONE}`, "TXT")).answer).toEqual([
      `txt.${ZONE}. 3600 IN TXT "v=spf1 \\"quoted\\" -all" "two"`,
    ]);
    expect((await dig(mcns.dnsPort, `_xmpp._tcp.${ZONE}`, "SRV")).answer).toEqual([
      `_xmpp._tcp.${ZONE}. 3600 IN SRV 5 0 5269 mail.${ZONE}.`,
    ]);
    expect((await dig(mcns.dnsPort, ZONE, "NS")).answer).toHaveLength(2); // from the config, not the file
    const records = await mcns.client().listRecords({ zone: ZONE, owner: "import" });
    expect(records.records).toHaveLength(7);
  });

  it("refuses a bad file with its line and imports nothing", async () => {
    const file = join(mcns.dir, "bad.zone");
    writeFileSync(file, `$ORIGIN ${ZONE}.\nok IN A 192.0.2.1\nbad IN A 192.0.2.999\n`);
    const result = await mcnsImport(file);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `mcns import: ${file}:3: address "192.0.2.999" is not an IPv4 address\n` +
        "mcns import: 1 problem, nothing was imported\n",
    );
    writeFileSync(file, `$ORIGIN ${ZONE}.\nx IN HINFO "a" "b"\n`);
    expect((await mcnsImport(file)).stderr).toContain(`${file}:2: record type HINFO is not supported`);
    writeFileSync(file, `$ORIGIN example.org.\nx IN A 192.0.2.1\n`);
    expect((await mcnsImport(file)).stderr).toContain(
      `${file}:2: no zone served here contains "x.example.org"`,
    );
    expect((await mcnsImport("--zone", "nowhere.test", file)).stderr).toBe(
      'mcns import: zone "nowhere.test" is not served here (zones: svc.mcp.test, other.test)\n',
    );
    await mcns.restart();
    expect((await dig(mcns.dnsPort, `ok.${ZONE}`, "A")).status).toBe("NXDOMAIN");
  });
});
