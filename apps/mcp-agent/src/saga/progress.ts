// A deploy's progress: each step outcome goes to the caller of Deploy (streamed) and to NATS as
// `mcp.deploy.<service>.<step>` with the deploy's id in the envelope. Plain types; the API turns
// them into DeployResponse messages. NATS trouble is logged and never fails a deploy; events NATS
// did not acknowledge stay in the registry's outbox and are published again at the next start.
import type { EventBus } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import { monotonicFactory } from "ulidx";
import type { DeployEventStore, PendingEvent } from "../store/deploy-events.js";

// Monotonic: two events in the same millisecond keep their order in the outbox.
const nextId = monotonicFactory();

/** The event steps of DESIGN.md section 3 (the last token(s) of the NATS subject). */
export type EventStep =
  | "started"
  | "port.leased"
  | "cert.ready"
  | "container.started"
  | "health.passed"
  | "dns.published"
  | "route.added"
  | "completed"
  | "failed"
  | "rolled_back";

export type StepStatus = "done" | "skipped" | "failed" | "undone";

export type Detail = Record<string, string | number | boolean | string[]>;

export interface Progress {
  deployId: string;
  service: string;
  step: EventStep;
  status: StepStatus;
  message: string;
  component?: string;
  /** The envelope's subject: a hostname or record name (they cannot be NATS tokens). */
  subject?: string;
  detail: Detail;
  time: Date;
}

export type ProgressListener = (progress: Progress) => void;

/** An outcome stamped and outboxed, not yet sent. */
export interface Prepared {
  progress: Progress;
  event?: PendingEvent;
}

export class Reporter {
  readonly #bus: EventBus | undefined;
  readonly #outbox: DeployEventStore;
  readonly #logger: Logger;
  readonly #listener: ProgressListener | undefined;
  // Events go out in order, one after the other, without holding up the saga; flush() waits.
  #queue: Promise<void> = Promise.resolve();

  constructor(
    bus: EventBus | undefined,
    outbox: DeployEventStore,
    logger: Logger,
    listener?: ProgressListener,
  ) {
    this.#bus = bus;
    this.#outbox = outbox;
    this.#logger = logger;
    this.#listener = listener;
  }

  /**
   * Reports one outcome. Events go to NATS for done, skipped and failed outcomes (undone steps
   * are summed up by rolled_back); each is written to the outbox first, so one a crash keeps from
   * NATS is published at the next start (`republishDeployEvents`).
   */
  async report(progress: Omit<Progress, "time">): Promise<void> {
    this.send(this.prepare(progress));
  }

  /**
   * The first half of report: stamps the outcome and writes its event to the outbox (call it in
   * the transaction that journals the step, so a step is never done without its event).
   */
  prepare(progress: Omit<Progress, "time">): Prepared {
    const full: Progress = { ...progress, time: new Date() };
    if (!this.#bus || full.status === "undone") return { progress: full };
    const event: PendingEvent = {
      id: nextId(full.time.getTime()),
      deployId: full.deployId,
      type: `mcp.deploy.${full.service}.${full.step}`,
      subject: full.subject,
      data: { service: full.service, ...full.detail, status: full.status, message: full.message },
      time: full.time,
    };
    this.#outbox.add(event);
    return { progress: full, event };
  }

  /** The second half: logs, tells the caller, and queues the event's publish. */
  send({ progress: full, event }: Prepared): void {
    this.#logger.info(
      {
        deployId: full.deployId,
        service: full.service,
        step: full.step,
        status: full.status,
        component: full.component,
      },
      full.message,
    );
    try {
      this.#listener?.(full);
    } catch {
      // a caller that went away does not stop the deploy
    }
    const bus = this.#bus;
    if (!bus || !event) return;
    this.#queue = this.#queue.then(async () => {
      await publishPending(bus, this.#outbox, this.#logger, event);
    });
  }

  /** Resolves when every event reported so far is acknowledged by NATS (or given up). */
  flush(): Promise<void> {
    return this.#queue;
  }
}

/** Publishes one outboxed event with its own id and time; marks it once NATS acks. */
export async function publishPending(
  bus: EventBus,
  outbox: DeployEventStore,
  logger: Logger,
  event: PendingEvent,
): Promise<boolean> {
  try {
    await bus.publish(event.type as string, event.data as never, {
      subject: event.subject,
      deployId: event.deployId,
      id: event.id,
      time: event.time,
    });
    outbox.markPublished(event.id);
    return true;
  } catch (err) {
    logger.warn({ err: (err as Error).message, type: event.type }, "could not publish a deploy event");
    return false;
  }
}
