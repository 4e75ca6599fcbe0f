// Deploy history and the saga journal (DESIGN.md section 5). A deploy row is written when a saga
// begins; each step writes an entry before it runs ("started") and updates it after ("done",
// "failed"), and compensation marks entries "compensating" then "compensated". After a crash,
// entries still "started" or "compensating" are the steps that may have half happened.
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { type Database, type StatementCache, statementCache } from "@mcp/mcdsl/sqlite";
import { monotonicFactory } from "ulidx";

// Monotonic: deploys begun in the same millisecond still sort in the order they began.
const ulid = monotonicFactory();

export type DeployKind = "deploy" | "start" | "stop" | "restart";
export type DeployOutcome = "in_progress" | "completed" | "rolled_back";
export type StepState = "started" | "done" | "failed" | "compensating" | "compensated";
export type Payload = Record<string, unknown>;

export interface Deploy {
  id: string;
  service: string;
  kind: DeployKind;
  definition: ServiceDefinition;
  previousDeployId?: string;
  outcome: DeployOutcome;
  error?: string;
  startedAt: Date;
  endedAt?: Date;
}

export interface JournalEntry {
  seq: number;
  deployId: string;
  step: string;
  component: string;
  state: StepState;
  payload: Payload;
  error?: string;
  startedAt: Date;
  endedAt?: Date;
}

export interface BeginDeploy {
  service: string;
  definition: ServiceDefinition;
  kind?: DeployKind;
  previousDeployId?: string;
  /** Default: a new ULID. */
  id?: string;
}

export interface StepStart {
  component?: string;
  payload?: Payload;
}

interface DeployRow {
  id: string;
  service: string;
  kind: DeployKind;
  spec_json: string;
  previous_deploy_id: string | null;
  outcome: DeployOutcome;
  error: string | null;
  started_ms: number;
  ended_ms: number | null;
}

interface EntryRow {
  seq: number;
  deploy_id: string;
  step: string;
  component: string;
  state: StepState;
  payload_json: string;
  error: string | null;
  started_ms: number;
  ended_ms: number | null;
}

export class JournalStore {
  readonly #db: Database;
  readonly #sql: StatementCache;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = statementCache(this.#db);
  }

  begin(request: BeginDeploy): Deploy {
    const id = request.id ?? ulid();
    this.#sql(
      `INSERT INTO deploys (id, service, kind, spec_json, previous_deploy_id, outcome, started_ms)
         VALUES (?, ?, ?, ?, ?, 'in_progress', ?)`,
    ).run(
      id,
      request.service,
      request.kind ?? "deploy",
      JSON.stringify(request.definition),
      request.previousDeployId ?? null,
      Date.now(),
    );
    return this.get(id)!;
  }

  get(id: string): Deploy | undefined {
    const row = this.#sql<[string], DeployRow>("SELECT * FROM deploys WHERE id = ?").get(id);
    return row && toDeploy(row);
  }

  /** A service's deploys, newest first. */
  history(service: string, limit = 20): Deploy[] {
    return this.#sql<[string, number], DeployRow>(
      "SELECT * FROM deploys WHERE service = ? ORDER BY started_ms DESC, id DESC LIMIT ?",
    )
      .all(service, limit)
      .map(toDeploy);
  }

  /** Sagas that never finished: at start-up, the ones a crash interrupted. */
  inProgress(service?: string): Deploy[] {
    const rows =
      service === undefined
        ? this.#sql<[], DeployRow>("SELECT * FROM deploys WHERE outcome = 'in_progress' ORDER BY id").all()
        : this.#sql<[string], DeployRow>(
            "SELECT * FROM deploys WHERE outcome = 'in_progress' AND service = ? ORDER BY id",
          ).all(service);
    return rows.map(toDeploy);
  }

  finish(id: string, outcome: Exclude<DeployOutcome, "in_progress">, error?: string): void {
    this.#sql("UPDATE deploys SET outcome = ?, error = ?, ended_ms = ? WHERE id = ?").run(
      outcome,
      error ?? null,
      Date.now(),
      id,
    );
  }

  /** Journals a step before it runs; returns the entry's sequence number. */
  stepStarted(deployId: string, step: string, start: StepStart = {}): number {
    const result = this.#sql(
      `INSERT INTO saga_journal (deploy_id, step, component, state, payload_json, started_ms)
         VALUES (?, ?, ?, 'started', ?, ?)`,
    ).run(deployId, step, start.component ?? "", JSON.stringify(start.payload ?? {}), Date.now());
    return Number(result.lastInsertRowid);
  }

  /** Moves an entry on; the payload (what the step made: ids, ports) is merged into the old one. */
  stepUpdated(seq: number, state: StepState, update: { payload?: Payload; error?: string } = {}): void {
    const entry = this.entry(seq);
    if (!entry) throw new Error(`journal entry ${seq} does not exist`);
    const ended = state === "started" || state === "compensating" ? null : Date.now();
    this.#sql(
      "UPDATE saga_journal SET state = ?, payload_json = ?, error = ?, ended_ms = ? WHERE seq = ?",
    ).run(
      state,
      JSON.stringify({ ...entry.payload, ...update.payload }),
      update.error ?? entry.error ?? null,
      ended,
      seq,
    );
  }

  entry(seq: number): JournalEntry | undefined {
    const row = this.#sql<[number], EntryRow>("SELECT * FROM saga_journal WHERE seq = ?").get(seq);
    return row && toEntry(row);
  }

  /** A deploy's entries in the order they were written. */
  entries(deployId: string): JournalEntry[] {
    return this.#sql<[string], EntryRow>("SELECT * FROM saga_journal WHERE deploy_id = ? ORDER BY seq")
      .all(deployId)
      .map(toEntry);
  }
}

function toDeploy(row: DeployRow): Deploy {
  return {
    id: row.id,
    service: row.service,
    kind: row.kind,
    definition: JSON.parse(row.spec_json) as ServiceDefinition,
    previousDeployId: row.previous_deploy_id ?? undefined,
    outcome: row.outcome,
    error: row.error ?? undefined,
    startedAt: new Date(row.started_ms),
    endedAt: row.ended_ms === null ? undefined : new Date(row.ended_ms),
  };
}

function toEntry(row: EntryRow): JournalEntry {
  return {
    seq: row.seq,
    deployId: row.deploy_id,
    step: row.step,
    component: row.component,
    state: row.state,
    payload: JSON.parse(row.payload_json) as Payload,
    error: row.error ?? undefined,
    startedAt: new Date(row.started_ms),
    endedAt: row.ended_ms === null ? undefined : new Date(row.ended_ms),
  };
}
