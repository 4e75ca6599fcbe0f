// What every app's main.ts does the same way once its config is loaded.
import { accessSync, constants } from "node:fs";
import { configIssue } from "../config/config-issues.js";
import { ConfigError } from "../config/errors.js";
import { connectEventsInBackground, type EventBus } from "../events/bus.js";
import type { Logger } from "../log/index.js";
import { ListenError } from "../server/listen-error.js";
import type { TlsFiles } from "../server/listeners.js";
import { type ServeOptions, type Server, serve } from "../server/serve.js";

/**
 * The app's event bus, or undefined when no server is set. It connects in the background and
 * ensures the MCP_EVENTS stream once connected, so an app starts and serves whatever the start
 * order (its events wait in its outbox meanwhile); the log says when NATS is reached, or why
 * it cannot be used.
 */
export async function connectConfiguredEvents(
  app: string,
  events: { servers: string[]; node: string },
  logger: Logger,
): Promise<EventBus | undefined> {
  if (events.servers.length === 0) return undefined;
  const where = events.servers.join(", ");
  const waiting = setTimeout(
    () =>
      logger.warn(
        { nats: where },
        "NATS not reached yet: serving without events, which wait in the database",
      ),
    5_000,
  );
  waiting.unref();
  const bus = connectEventsInBackground(
    { servers: events.servers, name: `${app}@${events.node}`, app, node: events.node },
    (err, retrying) => {
      clearTimeout(waiting);
      if (err && retrying) logger.warn({ nats: where, err: err.message }, "events not ready yet: retrying");
      else if (err) logger.error({ nats: where, err: err.message }, "events unavailable");
      else logger.info({ nats: where }, "connected to NATS");
    },
  );
  return bus;
}

/** serve()'s `tls` from `[server] tls_cert_file` / `tls_key_file`: both, or neither for cleartext. */
export function tlsFromConfig(server: {
  tls_cert_file?: string;
  tls_key_file?: string;
}): TlsFiles | undefined {
  const { tls_cert_file: certFile, tls_key_file: keyFile } = server;
  if (certFile && keyFile) {
    const unreadable = (["tls_cert_file", "tls_key_file"] as const).flatMap((key) => {
      const file = server[key] as string;
      try {
        accessSync(file, constants.R_OK);
        return [];
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const reason =
          code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(err);
        return [configIssue(server, key, `cannot read ${file}: ${reason}`)];
      }
    });
    if (unreadable.length > 0) throw new ConfigError(unreadable);
    return { certFile, keyFile };
  }
  if (certFile || keyFile) {
    const missing = certFile ? "tls_key_file" : "tls_cert_file";
    throw new ConfigError([
      {
        path: ["server", missing],
        message: "missing: set both tls_cert_file and tls_key_file for TLS, or neither",
      },
    ]);
  }
  return undefined;
}

/**
 * serve() for the `[server]` table it was configured from: a listener that cannot be opened (port
 * taken, no such address, socket directory missing) is a ConfigError at `listen` or `socket`.
 */
export async function serveConfigured(server: object, options: ServeOptions): Promise<Server> {
  try {
    return await serve(options);
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    throw new ConfigError([configIssue(server, err.kind === "socket" ? "socket" : "listen", err.message)]);
  }
}

/**
 * Runs an app's main and turns a failure into one line on stderr and exit code 1. Expected failures
 * (a ConfigError, or any error carrying a `code`: DatabaseError, EventsError, …) print their message
 * for people, without a stack trace; anything else is a bug and prints its stack.
 */
export function runMain(app: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const expected = err instanceof ConfigError || (err instanceof Error && "code" in err);
    const message =
      err instanceof Error ? (expected ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`${app}: ${message}\n`);
    process.exit(1);
  });
}
