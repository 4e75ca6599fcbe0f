export { getRequestId, getRequestLogger } from "./context.js";
export { ListenError } from "./listen-error.js";
export type { TlsFiles } from "./listeners.js";
export type { MetricsOptions } from "./metrics.js";
export { httpStatusFromCode } from "./rest/status.js";
export { type ServeOptions, type Server, serve } from "./serve.js";
export { type Closer, closeOnSignals } from "./signals.js";
