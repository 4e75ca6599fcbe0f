import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Record as DnsRecord, RecordSchema, type RecordType } from "@mcp/proto/mcns/v1/record_pb.js";
import {
  CreateRecordResponseSchema,
  type ImportProblem,
  type ImportZoneResponse,
  ImportZoneResponseSchema,
  ListRecordsResponseSchema,
  ListZonesResponseSchema,
  RecordService,
} from "@mcp/proto/mcns/v1/service_pb.js";
import type { Command } from "commander";
import { type CliContext, contextOf } from "../context.js";
import { formatData, fqdn, recordData, recordType, typeName } from "../dns/record-data.js";
import { CliError, UsageError } from "../errors.js";
import { messageJson } from "../output/json.js";
import { table } from "../output/table.js";
import { defaultOwner } from "../owner.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/** `mcp dns zones|list|add|rm|import`: MCNS's records over mcns.v1.RecordService. */
export function registerDns(program: Command): void {
  const dns = program.command("dns").description("list and manage DNS records in MCNS");

  dns
    .command("zones")
    .description("the zones MCNS serves, with their SOA serial and record count")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const response = await mcns(context).listZones({});
      context.print(
        table(
          ["ZONE", "SERIAL", "RECORDS", "DEFAULT TTL", "NS"],
          response.zones.map((z) => [z.name, z.serial, z.recordCount, z.defaultTtl, z.ns.join(", ")]),
        ),
        messageJson(ListZonesResponseSchema, response),
      );
    });

  dns
    .command("list [zone]")
    .description("records, every page, filtered by zone, name, type and owner")
    .option("--name <name>", "only this exact name")
    .option("--type <type>", "only this type (A, AAAA, CNAME, TXT, SRV, MX, NS, CAA)")
    .option("--owner <owner>", "only this owner")
    .action(
      async (
        zone: string | undefined,
        options: { name?: string; type?: string; owner?: string },
        command,
      ) => {
        const context = contextOf(command);
        const records = await listRecords(context, {
          zone: zone ? fqdn(zone) : "",
          name: options.name ? fqdn(options.name) : "",
          type: options.type ? recordType(options.type) : 0,
          owner: options.owner ?? "",
        });
        context.print(
          table(
            ["ID", "NAME", "TYPE", "TTL", "VALUE", "OWNER"],
            records.map((r) => [r.id, r.name, typeName(r.type), r.ttl, formatData(r.data), r.owner]),
          ),
          messageJson(ListRecordsResponseSchema, create(ListRecordsResponseSchema, { records })),
        );
      },
    );

  dns
    .command("add <name> <type> <value...>")
    .description(
      "add a record (SRV: PRIORITY WEIGHT PORT TARGET; MX: PREFERENCE EXCHANGE; CAA: FLAGS TAG VALUE)",
    )
    .option("--ttl <seconds>", "TTL in seconds (default: the zone's)", "0")
    .option("--owner <owner>", "who manages the record (default: your user name)")
    .action(
      async (
        name: string,
        type: string,
        values: string[],
        options: { ttl: string; owner?: string },
        command,
      ) => {
        const context = contextOf(command);
        if (!/^\d+$/.test(options.ttl))
          throw new UsageError(`--ttl must be a number of seconds, got "${options.ttl}"`);
        const kind = recordType(type);
        const record = create(RecordSchema, {
          name: fqdn(name),
          type: kind,
          ttl: Number(options.ttl),
          data: recordData(kind, values),
          owner: options.owner ?? defaultOwner(),
        });
        const response = await mcns(context).createRecord({ record });
        const r = response.record!;
        context.print(
          `added ${r.name} ${r.ttl} ${typeName(r.type)} ${formatData(r.data)} (id ${r.id}, owner ${r.owner})`,
          messageJson(CreateRecordResponseSchema, response),
        );
      },
    );

  dns
    .command("rm <id-or-name> [type] [value...]")
    .description("remove a record by id, or by NAME TYPE [VALUE] when exactly one record matches")
    .option("--owner <owner>", "the record's owner (default: your user name)")
    .action(
      async (
        first: string,
        type: string | undefined,
        values: string[],
        options: { owner?: string },
        command,
      ) => {
        const context = contextOf(command);
        const client = mcns(context);
        let record: DnsRecord;
        if (type === undefined) {
          if (!ULID.test(first))
            throw new UsageError(`"${first}" is not a record id; give NAME TYPE [VALUE] instead`);
          const found = await client.getRecord({ id: first.toUpperCase() });
          record = found.record!;
        } else {
          record = await findOne(context, fqdn(first), recordType(type), values);
        }
        await client.deleteRecord({ id: record.id, owner: options.owner ?? defaultOwner() });
        context.print(
          `removed ${record.name} ${typeName(record.type)} ${formatData(record.data)} (id ${record.id})`,
          { removed: messageJson(RecordSchema, record) },
        );
      },
    );

  dns
    .command("import <zonefile>")
    .description(
      "import an RFC 1035 zone file into the running MCNS, all or nothing (SOA and apex NS are skipped)",
    )
    .option("--zone <zone>", "the zone the records go in, the file's origin until $ORIGIN")
    .option("--owner <owner>", 'the owner of the imported records (default: "import")')
    .option("--dry-run", "check and count, change nothing")
    .action(async (file: string, options: { zone?: string; owner?: string; dryRun?: boolean }, command) => {
      const context = contextOf(command);
      const response = await importZone(context, file, options);
      const dry = options.dryRun === true;
      if (response.problems.length > 0) {
        // Only a dry run answers with problems; a real import fails with them (importZone).
        if (context.options.json) context.print("", messageJson(ImportZoneResponseSchema, response));
        throw new CliError(problemLines(file, response.problems, "would be imported"));
      }
      context.print(
        `${file}: ${response.created} records ${dry ? "would be imported" : "imported"}, ` +
          `${response.unchanged} already present, ${response.skipped} skipped ` +
          "(SOA and apex NS come from MCNS's configuration)",
        messageJson(ImportZoneResponseSchema, response),
      );
    });
}

/** ImportZone with the file's text; a refused file becomes one `FILE:LINE: reason` line per problem. */
async function importZone(
  context: CliContext,
  file: string,
  options: { zone?: string; owner?: string; dryRun?: boolean },
): Promise<ImportZoneResponse> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError(`${file}: no such file`);
    if (code === "EISDIR") throw new CliError(`${file}: is a directory, not a zone file`);
    throw err;
  }
  try {
    return await mcns(context).importZone({
      zone: options.zone ? fqdn(options.zone) : "",
      text,
      owner: options.owner ?? "",
      dryRun: options.dryRun === true,
    });
  } catch (err) {
    const refused = err instanceof ConnectError && err.code === Code.InvalidArgument;
    const details = refused ? err.findDetails(ImportZoneResponseSchema)[0] : undefined;
    if (details && details.problems.length > 0) {
      throw new CliError(problemLines(file, details.problems, "was imported"));
    }
    throw err;
  }
}

function problemLines(file: string, problems: ImportProblem[], outcome: string): string {
  const n = problems.length;
  return [
    ...problems.map((p) => `${file}:${p.line}: ${p.message}`),
    `${n === 1 ? "1 problem" : `${n} problems`}, nothing ${outcome}`,
  ].join("\n");
}

function mcns(context: CliContext) {
  return context.client(RecordService, "mcns");
}

async function listRecords(
  context: CliContext,
  filter: { zone: string; name: string; type: RecordType | 0; owner: string },
): Promise<DnsRecord[]> {
  const client = mcns(context);
  const records: DnsRecord[] = [];
  let pageToken = "";
  do {
    const page = await client.listRecords({ ...filter, pageSize: 1000, pageToken });
    records.push(...page.records);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return records;
}

/** The one record with this name, type and (when given) value. */
async function findOne(
  context: CliContext,
  name: string,
  type: RecordType,
  values: string[],
): Promise<DnsRecord> {
  const all = await listRecords(context, { zone: "", name, type, owner: "" });
  const wanted = values.length > 0 ? formatData(recordData(type, values)) : undefined;
  const matches = wanted === undefined ? all : all.filter((r) => formatData(r.data) === wanted);
  const what = `${name} ${typeName(type)}${wanted === undefined ? "" : ` ${wanted}`}`;
  if (matches.length === 0) throw new CliError(`no record ${what}`);
  if (matches.length > 1) {
    const list = matches.map((r) => `${r.id} (${formatData(r.data)})`).join(", ");
    throw new CliError(`${matches.length} records match ${what}: ${list}; give the value or the id`);
  }
  return matches[0]!;
}
