import { hostname } from "node:os";
import { connectEvents, EventsError, type McpEvent } from "@mcp/mcdsl/events";
import { parseDuration } from "@mcp/mcdsl/servicedef";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError, UsageError } from "../errors.js";

interface EventsOptions {
  follow?: boolean;
  since?: string;
  filter?: string;
  deploy?: string;
}

/**
 * `mcp events [-f] [--since SEQ|TIME] [--filter SUBJECT]`: the platform's events, read from NATS
 * (stream MCP_EVENTS) in stream order, one line each; `-f` keeps following until Ctrl-C.
 */
export function registerEvents(program: Command): void {
  program
    .command("events")
    .description("show the platform's events from NATS, and follow them with -f")
    .option("-f, --follow", "keep printing new events until interrupted")
    .option(
      "--since <seq|time>",
      "start at a stream sequence (42), a time (2026-11-22T10:00:00Z) or an age (10m)",
    )
    .option("--filter <subject>", "a NATS subject with wildcards, e.g. mcp.deploy.hello.> (default mcp.>)")
    .option("--deploy <id>", "only the events of this deploy")
    .action(async (options: EventsOptions, command: Command) => {
      const context = contextOf(command);
      const url = context.endpoints.address("nats");
      const start = since(options.since);
      const bus = await connectEvents({
        servers: url,
        name: `mcp-cli@${hostname()}`,
        app: "mcp-cli",
        node: hostname(),
      }).catch((error: unknown) => {
        throw error instanceof EventsError ? new CliError(`events: ${error.message}`) : error;
      });
      const stop = () => void bus.close().finally(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        const events = bus.replay({ ...start, filter: options.filter, follow: options.follow ?? false });
        for await (const event of events) {
          if (options.deploy !== undefined && event.deployId !== options.deploy) continue;
          process.stdout.write(`${context.options.json ? JSON.stringify(event) : eventLine(event)}\n`);
        }
      } catch (error) {
        if (error instanceof EventsError) throw new CliError(`events: ${error.message}`);
        if (/stream not found/i.test(String(error))) return; // no app has published yet: no events
        throw error;
      } finally {
        await bus.close();
      }
    });
}

/** `--since`: a sequence number, an ISO time or an age ("10m", "1h30m"). */
function since(text: string | undefined): { fromSequence?: number; fromTime?: Date } {
  if (text === undefined) return {};
  if (/^\d+$/.test(text)) return { fromSequence: Math.max(1, Number(text)) };
  const age = parseDuration(text);
  if (typeof age === "number") return { fromTime: new Date(Date.now() - age) };
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) {
    throw new UsageError(
      `--since takes a sequence (42), a time (2026-11-22T10:00:00Z) or an age (10m), got "${text}"`,
    );
  }
  return { fromTime: time };
}

/** `#12  2026-11-22T10:00:00.123Z  mcp.dns.created  www.svc…  deploy=…  {"recordId":…}` */
export function eventLine(event: McpEvent): string {
  return [
    `#${event.sequence ?? "-"}`,
    event.time.toISOString(),
    event.type,
    event.subject ?? "-",
    `${event.source.app}@${event.source.node}`,
    ...(event.deployId ? [`deploy=${event.deployId}`] : []),
    JSON.stringify(event.data),
  ].join("  ");
}
