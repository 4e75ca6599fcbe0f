// Every app's main ends the same way: on SIGTERM or SIGINT, close what it opened, in order, then exit.
import type { Logger } from "pino";

export type Closer = () => unknown;

/**
 * On the first SIGTERM/SIGINT, runs the closers one after another (the server first, so in-flight
 * calls finish while the store is still open) and exits 0, or 1 when one of them failed. A second
 * signal exits at once: an operator pressing Ctrl-C twice means it.
 */
export function closeOnSignals(logger: Logger, closers: Closer[]): void {
  let closing = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, "shutting down");
    let failed = false;
    for (const close of closers) {
      try {
        await close();
      } catch (err) {
        failed = true;
        logger.error({ err }, "shutdown step failed");
      }
    }
    logger.info("stopped");
    process.exit(failed ? 1 : 0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
