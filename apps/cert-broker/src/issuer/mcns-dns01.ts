// dns-01 challenges through MCNS: the `_acme-challenge.<hostname>` TXT record is created with
// mcns.v1.RecordService before the CA is asked to validate, and deleted afterwards. Records are owned
// by "cert-broker", so MCNS refuses to let anyone else change them (and us to touch theirs).
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerTokenInterceptor } from "@mcp/mcdsl/auth";
import { RecordSchema, RecordType } from "@mcp/proto/mcns/v1/record_pb.js";
import { RecordService } from "@mcp/proto/mcns/v1/service_pb.js";
import { IssuerUnavailableError } from "./issuer.js";

export const CHALLENGE_OWNER = "cert-broker";

export interface Dns01Solver {
  /** Publishes the TXT value; returns what remove() needs. */
  present(hostname: string, value: string): Promise<string>;
  remove(handle: string): Promise<void>;
}

export interface McnsSolverOptions {
  url: string;
  token: string;
  /** The zone for the records; empty: MCNS picks the longest zone it serves that holds the name. */
  zone?: string;
  /** TTL of the challenge records (seconds); short, so a retry is not answered from a cache. */
  ttl?: number;
}

export function createMcnsSolver(options: McnsSolverOptions): Dns01Solver {
  const client = createClient(
    RecordService,
    createConnectTransport({
      baseUrl: options.url,
      httpVersion: "1.1",
      interceptors: [bearerTokenInterceptor(options.token)],
    }),
  );
  const unavailable = (what: string, err: unknown) =>
    new IssuerUnavailableError(`MCNS at ${options.url} could not ${what}: ${ConnectError.from(err).message}`);
  return {
    async present(hostname, value) {
      try {
        const res = await client.createRecord({
          record: create(RecordSchema, {
            zone: options.zone ?? "",
            name: `_acme-challenge.${hostname}`,
            type: RecordType.TXT,
            ttl: options.ttl ?? 10,
            data: { case: "txt", value: { strings: [value] } },
            owner: CHALLENGE_OWNER,
          }),
        });
        return res.record?.id ?? "";
      } catch (err) {
        throw unavailable(`publish _acme-challenge.${hostname}`, err);
      }
    },
    async remove(id) {
      if (!id) return;
      try {
        await client.deleteRecord({ id, owner: CHALLENGE_OWNER, allowMissing: true });
      } catch (err) {
        if (ConnectError.from(err).code === Code.NotFound) return;
        throw unavailable(`delete challenge record ${id}`, err);
      }
    },
  };
}
