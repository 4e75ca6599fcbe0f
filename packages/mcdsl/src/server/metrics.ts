import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { procedureName } from "../auth/policy.js";
import { requestInfoKey } from "./context.js";

export interface MetricsOptions {
  /** Registry to register on; default a fresh one per server. */
  registry?: Registry;
  /** Collect prom-client's process metrics (CPU, memory, event loop, GC); default true. */
  defaultMetrics?: boolean;
}

export interface RpcMetrics {
  registry: Registry;
  /** Counts every RPC by procedure and Connect code, times it, and notes both for the request log. */
  interceptor: Interceptor;
}

export function createRpcMetrics(options: MetricsOptions = {}): RpcMetrics {
  const registry = options.registry ?? new Registry();
  // A shared registry may already carry the process metrics; registering them twice throws.
  if ((options.defaultMetrics ?? true) && !registry.getSingleMetric("process_cpu_seconds_total")) {
    collectDefaultMetrics({ register: registry });
  }
  const requests =
    (registry.getSingleMetric("rpc_requests_total") as Counter<"procedure" | "code"> | undefined) ??
    new Counter({
      name: "rpc_requests_total",
      help: "RPCs handled, by procedure and Connect code (REST calls included)",
      labelNames: ["procedure", "code"] as const,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric("rpc_request_duration_seconds") as Histogram<"procedure"> | undefined) ??
    new Histogram({
      name: "rpc_request_duration_seconds",
      help: "RPC latency from the first interceptor to the last response message",
      labelNames: ["procedure"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });

  const interceptor: Interceptor = (next) => async (req) => {
    const procedure = procedureName(req.method);
    const info = req.contextValues.get(requestInfoKey);
    if (info) info.procedure = procedure;
    const stop = duration.startTimer({ procedure });
    const finish = (err?: unknown) => {
      const code = err === undefined ? "ok" : codeToString(ConnectError.from(err).code);
      requests.inc({ procedure, code });
      stop();
      if (info) info.code = code;
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        finish();
        return res;
      }
      // A stream's outcome is known only when its last message is out.
      return { ...res, message: observe(res.message, finish) };
    } catch (err) {
      finish(err);
      throw err;
    }
  };
  return { registry, interceptor };
}

async function* observe<T>(messages: AsyncIterable<T>, finish: (err?: unknown) => void): AsyncIterable<T> {
  let failed = false;
  try {
    yield* messages;
  } catch (err) {
    failed = true;
    finish(err);
    throw err;
  } finally {
    if (!failed) finish();
  }
}
