// A worker thread's entry: one ImportZone, on its own connection to the database, so that the
// server's event loop (DNS included) goes on while a large zone is parsed, checked and written
// (150,000 records take 10 s and more). The same import as `mcns import`: its own DNS index for the
// rules that ask it, the events recorded in the outbox inside the import's transaction (the
// server's outbox publishes them). The result, or the error as a value, goes back to the server,
// which adopts the committed records into its index (import-thread.ts).
import { parentPort, workerData } from "node:worker_threads";
import { ConnectError } from "@connectrpc/connect";
import { createLogger } from "@mcp/mcdsl/log";
import { authorizeIdentity } from "../api/authorize.js";
import { RecordEvents } from "../api/events.js";
import { ZoneIndex } from "../dns/zone-index.js";
import { RecordError } from "../records/errors.js";
import { RecordManager } from "../records/manager.js";
import { RecordStore } from "../store/records.js";
import { importZone } from "./import.js";
import type { ImportJob, ImportOutcome } from "./import-thread.js";

function run(job: ImportJob): ImportOutcome {
  // The server waits for this thread, not SQLite's busy handler: blocking here blocks no one.
  const store = new RecordStore(job.path, job.zones, { busyTimeoutMs: job.busyTimeoutMs });
  try {
    // Built before the import takes the write lock: a change the server makes in between is not in
    // it (it only answers "any name below?" for an NS record's delegation rule).
    const index = new ZoneIndex(store.zones(), store.forIndex());
    store.onChange = (change) => index.apply(change);
    const manager = new RecordManager(store, { hasNamesBelow: (n) => index.hasNamesBelow(n) });
    const logger = createLogger({ app: "mcns", level: "error" });
    const events = new RecordEvents(store.outbox({ recordOnly: job.recordEvents, logger }));
    const result = importZone(store, manager, {
      ...job.request,
      authorize: (zone) => authorizeIdentity(job.identity, zone),
      created: (record) => events.changed("created", record),
    });
    return { ok: true, result };
  } catch (err) {
    if (err instanceof RecordError)
      return { ok: false, error: { kind: "record", code: err.code, message: err.message } };
    if (err instanceof ConnectError)
      return { ok: false, error: { kind: "connect", code: err.code, message: err.rawMessage } };
    const { message, stack, code } = err as NodeJS.ErrnoException;
    return { ok: false, error: { kind: "other", message, stack, code } };
  } finally {
    store.close();
  }
}

parentPort!.postMessage(run(workerData as ImportJob));
