// ImportZone's import on a worker thread (import-worker.ts), one import at a time: a large zone
// held the server's event loop, DNS included, for as long as it took (~7 s per 100,000 records).
// The worker commits on its own connection; the server then adopts the records into its index in
// one synchronous pass (RecordStore.adoptCreated), so DNS answers none of them, then all.

import { Worker } from "node:worker_threads";
import { type Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "@mcp/mcdsl/auth";
import type { ZoneConfig } from "../config.js";
import { RecordError, type RecordErrorCode } from "../records/errors.js";
import type { ZoneImport, ZoneImportResult } from "./import.js";

/** What the worker is given (structured-cloned: plain data only). */
export interface ImportJob {
  path: string;
  zones: ZoneConfig[];
  /** How long the worker's connection waits for another process's write lock. */
  busyTimeoutMs: number;
  /** Record mcp.dns.created events in the outbox (the server has a bus to publish them). */
  recordEvents: boolean;
  identity: Identity | undefined;
  request: Pick<ZoneImport, "text" | "zone" | "owner" | "dryRun">;
}

/** What it sends back: the result, or its error as a value (errors do not cross threads whole). */
export type ImportOutcome =
  | { ok: true; result: ZoneImportResult }
  | {
      ok: false;
      error:
        | { kind: "record"; code: RecordErrorCode; message: string }
        | { kind: "connect"; code: Code; message: string }
        | { kind: "other"; message: string; stack?: string; code?: string };
    };

export class ImportThreads {
  #last: Promise<unknown> = Promise.resolve();

  constructor(private readonly base: Omit<ImportJob, "identity" | "request">) {}

  /** Runs an import after those before it; its errors come back as the worker's code threw them. */
  run(request: ImportJob["request"], identity: Identity | undefined): Promise<ZoneImportResult> {
    const next = this.#last.then(() => this.#runOne({ ...this.base, identity, request }));
    this.#last = next.catch(() => {});
    return next;
  }

  #runOne(job: ImportJob): Promise<ZoneImportResult> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL("./import-worker.js", import.meta.url), { workerData: job });
      let settled = false;
      worker.once("message", (outcome: ImportOutcome) => {
        settled = true;
        if (outcome.ok) resolve(outcome.result);
        else reject(rebuild(outcome.error));
      });
      worker.once("error", (err) => {
        settled = true;
        reject(err);
      });
      worker.once("exit", (code) => {
        if (!settled) reject(new Error(`the import's worker thread exited (code ${code}) without a result`));
      });
    });
  }
}

function rebuild(error: Extract<ImportOutcome, { ok: false }>["error"]): Error {
  if (error.kind === "record") return new RecordError(error.code, error.message);
  if (error.kind === "connect") return new ConnectError(error.message, error.code);
  return Object.assign(new Error(error.message), { stack: error.stack, code: error.code });
}
