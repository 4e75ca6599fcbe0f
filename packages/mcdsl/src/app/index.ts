// mcdsl/app: the config tables and main.ts wiring that every platform app shares.
export { authFields, databaseFields, eventsFields, logFields, serverFields } from "./config-fields.js";
export { connectConfiguredEvents, runMain, serveConfigured, tlsFromConfig } from "./wiring.js";
