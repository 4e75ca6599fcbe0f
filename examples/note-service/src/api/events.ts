// Note changes go two ways: to WatchNotes streams in this process, and to NATS as mcp.note.* events
// (when an event bus is configured), so other services learn of them without polling.
import { EventEmitter, on } from "node:events";
import type { EventOutbox } from "@mcp/mcdsl/events";
import { WatchNotesResponse_Change } from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import type { Note } from "../store/notes.js";

export interface NoteChange {
  change: WatchNotesResponse_Change;
  note: Note;
}

const eventType: Record<WatchNotesResponse_Change, string> = {
  [WatchNotesResponse_Change.UNSPECIFIED]: "mcp.note.changed",
  [WatchNotesResponse_Change.CREATED]: "mcp.note.created",
  [WatchNotesResponse_Change.UPDATED]: "mcp.note.updated",
  [WatchNotesResponse_Change.DELETED]: "mcp.note.deleted",
};

export class NoteEvents {
  readonly #local = new EventEmitter();

  /** `outbox`: mcdsl's event outbox in the note database (none without an event bus). */
  constructor(private readonly outbox?: EventOutbox) {
    this.#local.setMaxListeners(0);
  }

  /** Records the change's event: call it inside the transaction that makes the change. */
  record(change: WatchNotesResponse_Change, note: Note): void {
    this.outbox?.record(eventType[change], { id: note.id, author: note.author, tags: note.tags });
  }

  /**
   * After the commit: tells watchers, then publishes. A NATS outage neither fails nor holds up the
   * call that made the change: the event waits in the database and goes out when NATS is back.
   */
  async changed(change: WatchNotesResponse_Change, note: Note): Promise<void> {
    this.#local.emit("change", { change, note } satisfies NoteChange);
    await this.outbox?.flush();
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
