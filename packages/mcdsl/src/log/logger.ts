import { hostname } from "node:os";
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  /** The application's name, bound to every line as `app`. */
  app: string;
  /** Minimum level; default "info". */
  level?: LogLevel | string;
  /** The node's name, bound as `node`; default the host name. */
  node?: string;
  /** Where lines go: a file path, a file descriptor or a stream; default stdout. */
  destination?: string | number | DestinationStream;
}

// Keys whose values are secrets wherever they appear (top level or up to two levels down). Tokens are
// bearer credentials, so even a log line at debug level must not carry one.
const secretKeys = [
  "authorization",
  "cookie",
  "token",
  "accessToken",
  "refreshToken",
  "password",
  "passphrase",
  "secret",
  "key",
  "privateKey",
  "apiKey",
];
const secretHeaderKeys = ["set-cookie", "x-api-key", "proxy-authorization"];

function redactPaths(): string[] {
  const accessors = [...secretKeys.map((k) => `.${k}`), ...secretHeaderKeys.map((k) => `["${k}"]`)];
  return accessors.flatMap((a) => [a.startsWith(".") ? a.slice(1) : a, `*${a}`, `*.*${a}`]);
}

/** A pino logger writing JSON lines with `app` and `node` bound and secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? "info";
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new Error(`log level "${level}" is not one of ${logLevels.join(", ")}`);
  }
  const destination =
    options.destination === undefined
      ? pino.destination(1)
      : typeof options.destination === "string" || typeof options.destination === "number"
        ? // Synchronous writes: a line logged just before a crash must not be lost.
          pino.destination({ dest: options.destination, mkdir: true, sync: true })
        : options.destination;
  return pino(
    {
      level,
      base: { app: options.app, node: options.node ?? hostname(), pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: "[redacted]" },
    },
    destination,
  );
}

/** A child logger whose lines carry `requestId`. */
export function withRequestId(logger: Logger, requestId: string): Logger {
  return logger.child({ requestId });
}
