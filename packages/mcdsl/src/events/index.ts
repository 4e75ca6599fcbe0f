// mcdsl/events: the platform's events on NATS JetStream (stream MCP_EVENTS, subjects mcp.>).
export { connectEvents, connectEventsInBackground, EventBus, type EventBusOptions } from "./bus.js";
export type {
  CertEvents,
  ContainerEvents,
  DeployEvents,
  DnsEvents,
  EventData,
  RouteEvents,
} from "./catalog.js";
export { decodeEvent, type EventSource, encodeEvent, type McpEvent } from "./envelope.js";
export { EventsError, type EventsErrorCode } from "./errors.js";
export { EventOutbox, type EventOutboxOptions, outboxMigration } from "./outbox.js";
export type { Published, PublishOptions } from "./publish.js";
export type { ReplayOptions } from "./replay.js";
export { STREAM_NAME, type StreamOptions, type StreamOutcome } from "./stream.js";
export { validateEventType, validateFilter } from "./subjects.js";
export type { DeliverFrom, SubscribeOptions, Subscription } from "./subscribe.js";
