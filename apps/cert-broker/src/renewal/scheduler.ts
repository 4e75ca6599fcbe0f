// Renews certificates on their own: each one at two thirds of its lifetime minus random jitter (the
// rule step-ca, cert-manager and certmagic share; the jitter is fixed when the certificate is stored),
// retries a failed renewal with exponential backoff, and publishes mcp.cert.expiring once when a
// certificate gets close to expiry without a successful renewal.
import type { Logger } from "@mcp/mcdsl/log";
import type { Broker } from "../broker/broker.js";
import type { Clock } from "../broker/clock.js";
import type { CertEvents } from "../events/cert-events.js";
import type { CertificateStore } from "../store/certificates.js";

export interface SchedulerOptions {
  broker: Broker;
  store: CertificateStore;
  events: CertEvents;
  clock: Clock;
  logger: Logger;
  /** How often to look for due certificates. */
  intervalMs: number;
  /** First retry delay after a failed renewal; doubles per failure up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Raise mcp.cert.expiring when less than this fraction of the lifetime is left (default 1/6). */
  expiringFraction: number;
}

export interface TickResult {
  renewed: { from: string; to: string }[];
  failed: { serial: string; error: string; retryAt: Date }[];
  expiring: string[];
}

export class RenewalScheduler {
  readonly #o: SchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<TickResult> | undefined;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.#o.logger.error({ err }, "renewal pass failed"));
    }, this.#o.intervalMs);
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** One pass: renew what is due, then warn about what is close to expiry. Passes never overlap. */
  tick(): Promise<TickResult> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<TickResult> {
    const { broker, store, events, clock, logger } = this.#o;
    const result: TickResult = { renewed: [], failed: [], expiring: [] };
    // Files a failed publish left behind their certificate catch up here, not only at the next start.
    if (broker.republishStale() > 0) await events.flush();
    for (const cert of store.dueForRenewal(clock.now())) {
      try {
        const renewed = await broker.renew(cert.serial);
        result.renewed.push({ from: cert.serial, to: renewed.certificate.serial });
        logger.info({ serial: cert.serial, renewedBy: renewed.certificate.serial }, "certificate renewed");
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const delay = Math.min(this.#o.retryBaseMs * 2 ** cert.renewalFailures, this.#o.retryMaxMs);
        // Up to a quarter less, so failures across many certificates do not retry in lockstep.
        const retryAt = new Date(clock.now().getTime() + delay * (1 - Math.random() / 4));
        store.recordRenewalFailure(cert.serial, error, retryAt);
        result.failed.push({ serial: cert.serial, error, retryAt });
        logger.warn(
          { serial: cert.serial, error, retryAt, failures: cert.renewalFailures + 1 },
          "renewal failed",
        );
      }
    }
    const now = clock.now();
    for (const cert of store.current()) {
      const lifetime = cert.notAfter.getTime() - Math.max(cert.notBefore.getTime(), cert.issuedAt.getTime());
      const left = cert.notAfter.getTime() - now.getTime();
      if (cert.expiringNotified || left > lifetime * this.#o.expiringFraction) continue;
      store.transaction(() => {
        store.markExpiringNotified(cert.serial);
        events.expiring(cert, now);
      });
      result.expiring.push(cert.serial);
      logger.warn(
        { serial: cert.serial, notAfter: cert.notAfter, lastError: cert.lastError },
        "certificate expiring",
      );
    }
    if (result.expiring.length > 0) await events.flush();
    return result;
  }
}
