// The note service's configuration file (TOML), loaded through mcdsl/config: `$NOTE_SERVICE_*`
// variables override keys, `$PORT` overrides the API's listen port.
import { authFields, databaseFields, eventsFields, logFields, serverFields } from "@mcp/mcdsl/app";
import { loadConfig, section, z } from "@mcp/mcdsl/config";

export const APP = "note-service";

export const configSchema = z.object({
  server: section(serverFields("127.0.0.1:8080")),
  auth: section(authFields(APP)),
  database: section(databaseFields(APP, "notes.db")),
  events: section(eventsFields()),
  log: section(logFields()),
});

export type NoteServiceConfig = z.output<typeof configSchema>;

export function loadNoteServiceConfig(path: string | undefined): NoteServiceConfig {
  return loadConfig({ app: APP, schema: configSchema, path });
}
