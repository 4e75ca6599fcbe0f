#!/usr/bin/env node
// note-service: the sample service built on mcdsl. This file only wires the parts together.
import { parseArgs } from "node:util";
import { connectConfiguredEvents, runMain, serveConfigured, tlsFromConfig } from "@mcp/mcdsl/app";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals } from "@mcp/mcdsl/server";
import { NoteEvents } from "./api/events.js";
import { noteRoutes } from "./api/note-service.js";
import { APP, loadNoteServiceConfig } from "./config.js";
import { NoteStore } from "./store/notes.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  const config = loadNoteServiceConfig(values.config);
  const logger = createLogger({ app: APP, level: config.log.level, node: config.events.node });

  const store = new NoteStore(config.database.path);
  const bus = await connectConfiguredEvents(APP, config.events, logger);
  const outbox = bus ? store.outbox({ bus, logger }) : undefined;
  const events = new NoteEvents(outbox);
  // Events an earlier run recorded and NATS never acknowledged go out now.
  void outbox?.flush();

  const tls = tlsFromConfig(config.server);
  const server = await serveConfigured(config.server, {
    routes: noteRoutes(store, events),
    listen: config.server.listen,
    socket: config.server.socket ? { path: config.server.socket } : undefined,
    tls,
    auth: { authenticator: loadStaticAuthenticator(config.auth.tokens_file), policy: {} },
    logger,
  });
  logger.info({ url: server.url, socket: server.addresses.socket }, "serving");

  closeOnSignals(logger, [
    () => server.close(),
    () => outbox?.close(),
    () => bus?.close(),
    () => store.close(),
  ]);
}

runMain(APP, main);
