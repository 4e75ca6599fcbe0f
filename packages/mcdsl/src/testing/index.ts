// mcdsl/testing: real external processes for tests (no mocks), shared by every package's test suite.

export { type AppProcess, type StartAppOptions, shebangFlags, startApp } from "./app-process.js";
export { ensureBusyboxImage } from "./busybox-image.js";
export { type CurlResult, curl } from "./curl.js";
export { freePort } from "./free-port.js";
export { type NatsServer, type StartNatsServerOptions, startNatsServer } from "./nats-server.js";
export { random } from "./seeded-random.js";
