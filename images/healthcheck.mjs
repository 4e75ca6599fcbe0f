// The HEALTHCHECK of every platform app image (copied to /app/healthcheck.mjs): GET /healthz on the
// app's API listener. The listener is found the way the app itself finds it — its own config schema,
// the --config file its process was started with, $<APP>_* and $PORT from the container's
// environment — so a definition that moves the port ($PORT) or the address never needs a second
// setting for the check. Exit 0: healthy; 1: not (with the reason on stderr, which podman records).
import { readdirSync, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { loadConfig, parseListenAddress } from "@mcp/mcdsl/config";
import { APP, configSchema } from "./dist/config.js";

/** The --config/-c argument of the app's process (PID 1, or below an init such as catatonit). */
function configPathOfApp() {
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // the process ended while we looked
    }
    if (!args.includes("/app/dist/main.js")) continue;
    for (let i = 0; i < args.length; i += 1) {
      const arg = args[i] ?? "";
      if (arg === "--config" || arg === "-c") return args[i + 1];
      if (arg.startsWith("--config=")) return arg.slice("--config=".length);
    }
    return undefined; // the app runs on its default config file
  }
  return undefined;
}

function fail(reason) {
  process.stderr.write(`${APP} healthcheck: ${reason}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig({ app: APP, schema: configSchema, path: configPathOfApp() });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { host, port } = parseListenAddress(config.server.listen);
// A wildcard listener is reached on loopback.
const target = host === "" || host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
const tls = Boolean(config.server.tls_cert_file);
// The check asks whether the process serves, not whether its certificate is trusted here.
const request = (tls ? httpsGet : httpGet)(
  { host: target, port, path: "/healthz", timeout: 4000, rejectUnauthorized: false },
  (response) => {
    response.resume();
    if (response.statusCode === 200) process.exit(0);
    fail(`GET /healthz on ${target}:${port} answered ${response.statusCode}`);
  },
);
request.on("timeout", () => request.destroy(new Error("no answer in 4 s")));
request.on("error", (error) => fail(`GET /healthz on ${target}:${port}: ${error.message}`));
