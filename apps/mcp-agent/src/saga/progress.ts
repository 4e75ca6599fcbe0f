// A deploy's progress: each step outcome goes to the caller of Deploy (streamed) and to NATS as
// `mcp.deploy.<service>.<step>` with the deploy's id in the envelope. Plain types; the API turns
// them into DeployResponse messages. NATS trouble is logged and never fails a deploy.
import type { EventBus } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";

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

export class Reporter {
  readonly #bus: EventBus | undefined;
  readonly #logger: Logger;
  readonly #listener: ProgressListener | undefined;
  // Events go out in order, one after the other, without holding up the saga; flush() waits.
  #queue: Promise<void> = Promise.resolve();

  constructor(bus: EventBus | undefined, logger: Logger, listener?: ProgressListener) {
    this.#bus = bus;
    this.#logger = logger;
    this.#listener = listener;
  }

  /**
   * Reports one outcome. Events go to NATS for done, skipped and failed outcomes (undone steps
   * are summed up by rolled_back). `eventId` re-publishes a journalled event (NATS dedups it).
   */
  async report(progress: Omit<Progress, "time">, eventId?: { id: string; time: Date }): Promise<void> {
    const full: Progress = { ...progress, time: eventId?.time ?? new Date() };
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
    if (!bus || full.status === "undone") return;
    const type = `mcp.deploy.${full.service}.${full.step}`;
    this.#queue = this.#queue.then(async () => {
      try {
        await bus.publish(
          type as string,
          { service: full.service, ...full.detail, status: full.status, message: full.message },
          { subject: full.subject, deployId: full.deployId, id: eventId?.id, time: eventId?.time },
        );
      } catch (err) {
        this.#logger.warn({ err: (err as Error).message, type }, "could not publish a deploy event");
      }
    });
  }

  /** Resolves when every event reported so far is acknowledged by NATS (or given up). */
  flush(): Promise<void> {
    return this.#queue;
  }
}
