// A deploy's progress: each step outcome goes to the caller of Deploy (streamed) and to NATS as
// `mcp.deploy.<service>.<step>` with the deploy's id in the envelope. Plain types; the API turns
// them into DeployResponse messages. Events go through mcdsl's event outbox: recorded in the
// registry (in the transaction that journals the step, where there is one), published after it;
// NATS trouble never fails or holds up a deploy, and what NATS did not take is retried while the
// agent runs and published at its next start.
import type { EventOutbox } from "@mcp/mcdsl/events";
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
  readonly #outbox: EventOutbox;
  readonly #logger: Logger;
  readonly #listener: ProgressListener | undefined;

  constructor(outbox: EventOutbox, logger: Logger, listener?: ProgressListener) {
    this.#outbox = outbox;
    this.#logger = logger;
    this.#listener = listener;
  }

  /**
   * Reports one outcome. Events go to NATS for done, skipped and failed outcomes (undone steps
   * are summed up by rolled_back).
   */
  async report(progress: Omit<Progress, "time">): Promise<void> {
    this.send(this.prepare(progress));
  }

  /**
   * The first half of report: stamps the outcome and records its event in the outbox (call it in
   * the transaction that journals the step, so a step is never done without its event).
   */
  prepare(progress: Omit<Progress, "time">): Progress {
    const full: Progress = { ...progress, time: new Date() };
    if (full.status === "undone") return full;
    // Typed as a plain string: the data carries status and message beside the catalog's fields.
    const type: string = `mcp.deploy.${full.service}.${full.step}`;
    this.#outbox.record(
      type,
      { service: full.service, ...full.detail, status: full.status, message: full.message },
      { subject: full.subject, deployId: full.deployId },
    );
    return full;
  }

  /** The second half, after the commit: logs, tells the caller, and starts the publish. */
  send(progress: Progress): void {
    this.#logger.info(
      {
        deployId: progress.deployId,
        service: progress.service,
        step: progress.step,
        status: progress.status,
        component: progress.component,
      },
      progress.message,
    );
    try {
      this.#listener?.(progress);
    } catch {
      // a caller that went away does not stop the deploy
    }
    void this.#outbox.flush();
  }

  /** Waits (briefly: see EventOutbox.flush) for the events reported so far to reach NATS. */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }
}
