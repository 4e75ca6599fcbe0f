// mcns.v1.RecordService over the record manager: protobuf types stay in api/, errors become Connect
// codes, and every change is published as an event. A change and its event are one transaction
// (store.batch); the event is published after the commit.
import type { ConnectRouter } from "@connectrpc/connect";
import { RecordService } from "@mcp/proto/mcns/v1/service_pb.js";
import { RecordError } from "../records/errors.js";
import type { RecordManager } from "../records/manager.js";
import { normalizeName } from "../records/validate.js";
import type { RecordStore } from "../store/records.js";
import type { ImportThreads } from "../zonefile/import-thread.js";
import { authorize } from "./authorize.js";
import { dataFromMessage, recordToMessage, recordType, zoneToMessage } from "./convert.js";
import { run, runWhenUnlocked } from "./errors.js";
import type { RecordEvents } from "./events.js";
import { importZoneHandler } from "./import-zone.js";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** Roles for the auth policy: writes need one of these, and then a zone the identity may write. */
export const WRITER_ROLES = ["admin", "agent"];
export const recordPolicy = {
  roles: Object.fromEntries(
    ["CreateRecord", "UpdateRecord", "DeleteRecord", "ImportZone"].map((m) => [
      `mcns.v1.RecordService/${m}`,
      WRITER_ROLES,
    ]),
  ),
};

export function recordRoutes(
  store: RecordStore,
  manager: RecordManager,
  events: RecordEvents,
  imports: ImportThreads,
) {
  return (router: ConnectRouter): void => {
    router.service(RecordService, {
      listZones: () => ({ zones: store.zones().map((z) => zoneToMessage(z, store.recordCount(z.name))) }),
      listRecords: (req) =>
        run(() => {
          const limit = req.pageSize === 0 ? DEFAULT_PAGE : Math.min(req.pageSize, MAX_PAGE);
          const type = req.type === 0 ? undefined : recordType(req.type);
          if (req.type !== 0 && !type)
            throw new RecordError("invalid", `type ${req.type} is not a record type`);
          const records = store.list({
            zone: normalizeName(req.zone),
            name: normalizeName(req.name),
            type,
            owner: req.owner,
            after: req.pageToken ? readPageToken(req.pageToken) : undefined,
            limit: limit + 1,
          });
          const page = records.slice(0, limit);
          const last = page[page.length - 1];
          return {
            records: page.map(recordToMessage),
            nextPageToken:
              records.length > limit && last
                ? Buffer.from(JSON.stringify([last.name, last.data.type, last.id])).toString("base64url")
                : "",
          };
        }),
      getRecord: (req) =>
        run(() => {
          const record = req.id ? store.get(req.id) : undefined;
          if (!record) throw new RecordError("not_found", `record "${req.id}" not found`);
          return { record: recordToMessage(record) };
        }),
      createRecord: async (req, ctx) => {
        const { record, created } = await runWhenUnlocked(() => {
          const r = req.record;
          if (!r) throw new RecordError("invalid", "record is required");
          const input = { zone: r.zone, name: r.name, ttl: r.ttl, data: dataFromMessage(r), owner: r.owner };
          authorize(ctx, manager.zoneFor(input));
          return store.batch(() => {
            const result = manager.create(input);
            if (result.created) events.changed("created", result.record);
            return result;
          });
        });
        if (created) await events.flush();
        return { record: recordToMessage(record) };
      },
      updateRecord: async (req, ctx) => {
        const { record } = await runWhenUnlocked(() => {
          const r = req.record;
          if (!r?.id) throw new RecordError("invalid", "record.id is required");
          const current = store.get(r.id);
          if (!current) throw new RecordError("not_found", `record "${r.id}" not found`);
          authorize(ctx, store.zone(current.zone) ?? { name: current.zone });
          const change = {
            ttl: r.ttl,
            data: dataFromMessage(r),
            owner: r.owner,
            zone: r.zone || undefined,
            name: r.name || undefined,
            type: r.type ? recordType(r.type) : undefined,
          };
          return store.batch(() => {
            const result = manager.update(r.id, change);
            events.changed("updated", result.record);
            return result;
          });
        });
        await events.flush();
        return { record: recordToMessage(record) };
      },
      deleteRecord: async (req, ctx) => {
        const deleted = await runWhenUnlocked(() => {
          if (!req.id) throw new RecordError("invalid", "id is required");
          const current = store.get(req.id);
          if (current) authorize(ctx, store.zone(current.zone) ?? { name: current.zone });
          return store.batch(() => {
            const gone = manager.delete(req.id, req.owner, req.allowMissing);
            if (gone) events.changed("deleted", gone);
            return gone;
          });
        });
        if (deleted) await events.flush();
        return {};
      },
      importZone: importZoneHandler(store, imports, events),
    });
  };
}

function readPageToken(token: string): { name: string; type: string; id: string } {
  try {
    const [name, type, id] = JSON.parse(Buffer.from(token, "base64url").toString()) as string[];
    if (typeof name === "string" && typeof type === "string" && typeof id === "string")
      return { name, type, id };
  } catch {}
  throw new RecordError("invalid", "page_token is not one this server handed out");
}
