// mcp.sample.v1.NoteService over the SQLite store: protobuf types stay here, at the edge.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { getIdentity } from "@mcp/mcdsl/auth";
import {
  type Note as NoteMessage,
  NoteSchema,
  NoteService,
  type WatchNotesResponse,
  WatchNotesResponse_Change,
  WatchNotesResponseSchema,
} from "@mcp/proto/mcp/sample/v1/sample_pb.js";
import type { Note, NoteStore } from "../store/notes.js";
import type { NoteEvents } from "./events.js";

const MAX_TEXT_BYTES = 64 * 1024;
const MAX_PAGE_SIZE = 1000;

export function noteRoutes(store: NoteStore, events: NoteEvents) {
  return (router: ConnectRouter): void => {
    router.service(NoteService, {
      createNote: async (req, ctx) => {
        checkText(req.text);
        const note = store.transaction(() => {
          const created = store.create(authorOf(ctx), req.text, checkTags(req.tags));
          events.record(WatchNotesResponse_Change.CREATED, created);
          return created;
        });
        await events.changed(WatchNotesResponse_Change.CREATED, note);
        return { note: toMessage(note) };
      },
      getNote: (req) => ({ note: toMessage(find(store, req.id)) }),
      listNotes: (req) => {
        if (req.pageSize < 0 || req.pageSize > MAX_PAGE_SIZE) {
          throw new ConnectError(`page_size must be from 0 to ${MAX_PAGE_SIZE}`, Code.InvalidArgument);
        }
        const notes = store.list({ author: req.author, tag: req.tag, limit: req.pageSize || MAX_PAGE_SIZE });
        return { notes: notes.map(toMessage) };
      },
      updateNote: async (req, ctx) => {
        const current = find(store, req.note?.id ?? "");
        if (current.author !== authorOf(ctx)) {
          throw new ConnectError(
            `note "${current.id}" belongs to "${current.author}"`,
            Code.PermissionDenied,
          );
        }
        checkText(req.note?.text ?? "");
        const note = store.transaction(() => {
          const updated = store.update(current.id, req.note?.text ?? "", checkTags(req.note?.tags ?? []));
          if (updated) events.record(WatchNotesResponse_Change.UPDATED, updated);
          return updated;
        });
        if (!note) throw new ConnectError(`note "${current.id}" not found`, Code.NotFound);
        await events.changed(WatchNotesResponse_Change.UPDATED, note);
        return { note: toMessage(note) };
      },
      deleteNote: async (req) => {
        const note = find(store, req.id);
        store.transaction(() => {
          store.delete(note.id);
          events.record(WatchNotesResponse_Change.DELETED, note);
        });
        await events.changed(WatchNotesResponse_Change.DELETED, note);
        return {};
      },
      watchNotes: (_req, ctx) => watch(events, ctx),
    });
  };
}

function find(store: NoteStore, id: string): Note {
  if (id === "") throw new ConnectError("id must not be empty", Code.InvalidArgument);
  const note = store.get(id);
  if (!note) throw new ConnectError(`note "${id}" not found`, Code.NotFound);
  return note;
}

function checkText(text: string): void {
  if (text.trim() === "") throw new ConnectError("text must not be empty", Code.InvalidArgument);
  if (Buffer.byteLength(text) > MAX_TEXT_BYTES) {
    throw new ConnectError(`text is longer than ${MAX_TEXT_BYTES} bytes`, Code.InvalidArgument);
  }
}

function checkTags(tags: string[]): string[] {
  for (const tag of tags) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(tag)) {
      throw new ConnectError(`tag "${tag}" must be [a-z0-9-], 1 to 63 characters`, Code.InvalidArgument);
    }
  }
  return tags;
}

function authorOf(ctx: HandlerContext): string {
  return getIdentity(ctx)?.name ?? "anonymous";
}

function toMessage(note: Note): NoteMessage {
  return create(NoteSchema, {
    id: note.id,
    author: note.author,
    text: note.text,
    tags: note.tags,
    createTime: timestampFromDate(note.createdAt),
  });
}

async function* watch(events: NoteEvents, ctx: HandlerContext): AsyncIterable<WatchNotesResponse> {
  for await (const change of events.watch(ctx.signal)) {
    yield create(WatchNotesResponseSchema, { change: change.change, note: toMessage(change.note) });
  }
}
