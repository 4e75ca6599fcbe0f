// ImportZone: a master file imported into the running server, all or nothing, through the same
// import as `mcns import` (zonefile/import.ts) and so the same store batch and index path as
// CreateRecord: DNS answers the records when the call returns.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  ImportProblemSchema,
  type ImportZoneRequest,
  type ImportZoneResponse,
  ImportZoneResponseSchema,
} from "@mcp/proto/mcns/v1/service_pb.js";
import type { RecordManager } from "../records/manager.js";
import type { RecordStore } from "../store/records.js";
import { importZone, type ZoneImportResult } from "../zonefile/import.js";
import { authorize } from "./authorize.js";
import { runWhenUnlocked } from "./errors.js";
import type { RecordEvents } from "./events.js";

/** The largest master file ImportZone takes (the server's request limit leaves room for JSON escaping). */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

export function importZoneHandler(store: RecordStore, manager: RecordManager, events: RecordEvents) {
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
    const result = await runWhenUnlocked(() =>
      importZone(store, manager, {
        text: req.text,
        zone: req.zone,
        owner: req.owner,
        dryRun: req.dryRun,
        authorize: (zone) => authorize(ctx, zone),
        created: (record) => events.changed("created", record),
      }),
    );
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
