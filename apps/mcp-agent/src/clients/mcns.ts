// MCNS's RecordService as the agent uses it: the zones it serves, and A records owned by a
// service. Plain types in and out; protobuf stays here.
import { create } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { RecordSchema, RecordType } from "@mcp/proto/mcns/v1/record_pb.js";
import { RecordService } from "@mcp/proto/mcns/v1/service_pb.js";
import { callPeer, isNotFound } from "./peer-error.js";

export interface DnsRecord {
  id: string;
  name: string;
  type: string;
  value: string;
  owner: string;
}

export class McnsClient {
  readonly #client: Client<typeof RecordService>;

  constructor(transport: Transport) {
    this.#client = createClient(RecordService, transport);
  }

  /** The zone names MCNS is authoritative for. */
  async zones(): Promise<string[]> {
    const res = await callPeer("mcns", "list zones", () => this.#client.listZones({}));
    return res.zones.map((z) => z.name);
  }

  /** Creates an A record (idempotent: the same record of the same owner is returned as it is). */
  async createA(name: string, address: string, owner: string, ttl: number): Promise<DnsRecord> {
    const res = await callPeer("mcns", `create A ${name}`, () =>
      this.#client.createRecord({
        record: create(RecordSchema, {
          name,
          type: RecordType.A,
          ttl,
          data: { case: "address", value: address },
          owner,
        }),
      }),
    );
    return toRecord(res.record);
  }

  /** A record by id; undefined when MCNS does not have it (e.g. a registry restored from a backup). */
  async get(id: string): Promise<DnsRecord | undefined> {
    try {
      const res = await callPeer("mcns", `get record ${id}`, () => this.#client.getRecord({ id }));
      return toRecord(res.record);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Deletes a record; one that is already gone is fine. */
  async delete(id: string, owner: string): Promise<void> {
    await callPeer("mcns", `delete record ${id}`, () =>
      this.#client.deleteRecord({ id, owner, allowMissing: true }),
    );
  }

  /** An owner's records of a name (to find what a half-done create left). */
  async find(name: string, owner: string): Promise<DnsRecord[]> {
    const res = await callPeer("mcns", `list records of ${name}`, () =>
      this.#client.listRecords({ name, owner }),
    );
    return res.records.map(toRecord);
  }
}

function toRecord(
  record:
    | { id: string; name: string; type: RecordType; data: { case?: string; value?: unknown }; owner: string }
    | undefined,
): DnsRecord {
  if (!record) throw new Error("mcns answered without a record");
  return {
    id: record.id,
    name: record.name,
    type: RecordType[record.type] ?? String(record.type),
    value: record.data.case === "address" ? String(record.data.value) : "",
    owner: record.owner,
  };
}
