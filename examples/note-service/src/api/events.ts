// Note changes go two ways: to WatchNotes streams in this process, and to NATS as mcp.note.* events
// (when an event bus is configured), so other services learn of them without polling.
import { EventEmitter, on } from "node:events";
import type { Logger } from "@mcp/mcdsl/log";
import { WatchNotesResponse_Change } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import type { Note } from "../store/notes.js";

export interface NoteChange {
  change: WatchNotesResponse_Change;
  note: Note;
}

/** What NoteEvents needs of mcdsl's event bus. */
export interface EventPublisher {
  publish(type: string, data: Record<string, unknown>): Promise<unknown>;
}

const eventType: Record<WatchNotesResponse_Change, string> = {
  [WatchNotesResponse_Change.UNSPECIFIED]: "mcp.note.changed",
  [WatchNotesResponse_Change.CREATED]: "mcp.note.created",
  [WatchNotesResponse_Change.UPDATED]: "mcp.note.updated",
  [WatchNotesResponse_Change.DELETED]: "mcp.note.deleted",
};

export class NoteEvents {
  readonly #local = new EventEmitter();

  constructor(
    private readonly logger: Logger,
    private readonly bus?: EventPublisher,
  ) {
    this.#local.setMaxListeners(0);
  }

  /**
   * Tells watchers, then publishes and waits for the stream's ack. The change is committed already,
   * so a NATS outage is logged rather than failing the call that made it.
   */
  async changed(change: WatchNotesResponse_Change, note: Note): Promise<void> {
    this.#local.emit("change", { change, note } satisfies NoteChange);
    try {
      await this.bus?.publish(eventType[change], { id: note.id, author: note.author, tags: note.tags });
    } catch (err) {
      this.logger.warn({ err, note: note.id }, "could not publish the note event");
    }
  }

  /** Changes from now until the signal aborts. */
  async *watch(signal: AbortSignal): AsyncIterable<NoteChange> {
    try {
      for await (const [change] of on(this.#local, "change", { signal })) yield change as NoteChange;
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
}
