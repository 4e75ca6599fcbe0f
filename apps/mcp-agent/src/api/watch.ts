// WatchEvents: the platform's events from NATS (stream MCP_EVENTS) for `mcp events [-f]`: from a
// sequence or a time, or only new ones, filtered by subject and deploy, until the caller cancels.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type EventBus, EventsError, validateFilter } from "@mcp/mcdsl/events";
import type { WatchEventsRequest, WatchEventsResponse } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { EventSchema } from "@mcp/proto/mcp/events/v1/event_pb.js";

export async function* watchEvents(
  bus: EventBus | undefined,
  req: WatchEventsRequest,
  signal: AbortSignal,
): AsyncGenerator<WatchEventsResponse> {
  if (!bus) throw new ConnectError("this agent has no NATS configured ([events] servers)", Code.Unavailable);
  const filter = req.filterSubject || "mcp.>";
  try {
    validateFilter(filter);
  } catch (err) {
    throw new ConnectError(`filter_subject: ${(err as Error).message}`, Code.InvalidArgument);
  }
  const start =
    req.start.case === "startSequence"
      ? { fromSequence: Number(req.start.value) }
      : req.start.case === "startTime"
        ? { fromTime: timestampDate(req.start.value) }
        : { fromTime: new Date() };
  const events = bus.replay({ ...start, filter, follow: true })[Symbol.asyncIterator]();
  const aborted = new Promise<"aborted">((resolve) =>
    signal.addEventListener("abort", () => resolve("aborted")),
  );
  try {
    for (;;) {
      const next = await Promise.race([events.next(), aborted]);
      if (next === "aborted" || next.done) return;
      const e = next.value;
      if (req.deployId && e.deployId !== req.deployId) continue;
      yield {
        $typeName: "mcp.agent.v1.WatchEventsResponse",
        event: create(EventSchema, {
          id: e.id,
          time: timestampFromDate(e.time),
          source: e.source,
          type: e.type,
          subject: e.subject ?? "",
          deployId: e.deployId ?? "",
          data: e.data,
          sequence: BigInt(e.sequence ?? 0),
        }),
      };
    }
  } catch (err) {
    if (err instanceof EventsError) throw new ConnectError(`events: ${err.message}`, Code.Unavailable);
    throw err;
  } finally {
    await events.return?.(undefined);
  }
}
