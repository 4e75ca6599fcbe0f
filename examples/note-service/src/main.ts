#!/usr/bin/env node
// note-service: the sample service built on mcdsl. This file only wires the parts together.
import { parseArgs } from "node:util";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { ConfigError } from "@mcp/mcdsl/config";
import { connectEvents, type EventBus } from "@mcp/mcdsl/events";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals, serve } from "@mcp/mcdsl/server";
import { NoteEvents } from "./api/events.js";
import { noteRoutes } from "./api/note-service.js";
import { APP, loadNoteServiceConfig } from "./config.js";
import { NoteStore } from "./store/notes.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  const config = loadNoteServiceConfig(values.config);
  const logger = createLogger({ app: APP, level: config.log.level, node: config.events.node });

  const store = new NoteStore(config.database.path);
  let bus: EventBus | undefined;
  if (config.events.servers.length > 0) {
    bus = await connectEvents({
      servers: config.events.servers,
      name: APP,
      app: APP,
      node: config.events.node,
    });
    await bus.ensureStream();
  }
  const events = new NoteEvents(logger, bus);

  const tls =
    config.server.tls_cert_file && config.server.tls_key_file
      ? { certFile: config.server.tls_cert_file, keyFile: config.server.tls_key_file }
      : undefined;
  const server = await serve({
    routes: noteRoutes(store, events),
    listen: config.server.listen,
    socket: config.server.socket ? { path: config.server.socket } : undefined,
    tls,
    auth: { authenticator: loadStaticAuthenticator(config.auth.tokens_file), policy: {} },
    logger,
  });
  logger.info({ url: server.url, socket: server.addresses.socket }, "serving");

  closeOnSignals(logger, [() => server.close(), () => bus?.close(), () => store.close()]);
}

main().catch((err: unknown) => {
  // A bad config file gets its own message (file:line: key: problem), without a stack trace.
  const message =
    err instanceof ConfigError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`${APP}: ${message}\n`);
  process.exit(1);
});
