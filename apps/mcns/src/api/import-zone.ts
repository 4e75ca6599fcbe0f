// ImportZone: a master file imported into the running server, all or nothing, through the same
// import as `mcns import` (zonefile/import.ts), on a worker thread (zonefile/import-thread.ts) so
// that DNS goes on meanwhile: DNS answers the records when the call returns.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { getIdentity } from "@mcp/mcdsl/auth";
import {
  ImportProblemSchema,
  type ImportZoneRequest,
  type ImportZoneResponse,
  ImportZoneResponseSchema,
} from "@mcp/proto/mcns/v1/service_pb.js";
import type { RecordStore } from "../store/records.js";
import type { ZoneImportResult } from "../zonefile/import.js";
import type { ImportThreads } from "../zonefile/import-thread.js";
import { forClient } from "./errors.js";
import type { RecordEvents } from "./events.js";

/** The largest master file ImportZone takes (the server's request limit leaves room for JSON escaping). */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

export function importZoneHandler(store: RecordStore, imports: ImportThreads, events: RecordEvents) {
  return async (req: ImportZoneRequest, ctx: HandlerContext): Promise<ImportZoneResponse> => {
    const size = Buffer.byteLength(req.text, "utf8");
    if (size > MAX_IMPORT_BYTES) {
      throw new ConnectError(
        `the zone file is ${size} bytes; the limit is ${MAX_IMPORT_BYTES} (4 MiB): split it`,
        Code.InvalidArgument,
      );
    }
    if (req.text.trim() === "")
      throw new ConnectError("text is empty: give the zone file's text", Code.InvalidArgument);
    let result: ZoneImportResult;
    try {
      const request = { text: req.text, zone: req.zone, owner: req.owner, dryRun: req.dryRun };
      result = await imports.run(request, getIdentity(ctx));
    } catch (err) {
      throw forClient(err);
    }
    // Committed by the worker: DNS answers them from here on.
    store.adoptCreated(result.records);
    const response = toMessage(result);
    if (result.problems.length > 0 && !req.dryRun) {
      const n = result.problems.length;
      const lines = result.problems.map((p) => `line ${p.line}: ${p.message}`).join("; ");
      throw new ConnectError(
        `the zone file has ${n === 1 ? "a problem" : `${n} problems`}, nothing was imported: ${lines}`,
        Code.InvalidArgument,
        undefined,
        [{ desc: ImportZoneResponseSchema, value: response }],
      );
    }
    if (result.records.length > 0) await events.flush();
    return response;
  };
}

function toMessage(result: ZoneImportResult): ImportZoneResponse {
  return create(ImportZoneResponseSchema, {
    created: result.created,
    unchanged: result.unchanged,
    skipped: result.skipped,
    problems: result.problems.map((p) => create(ImportProblemSchema, p)),
  });
}
