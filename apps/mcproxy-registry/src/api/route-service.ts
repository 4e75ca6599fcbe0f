// mcproxy.v1.RouteService over the route registry: protobuf types stay in this file.
import { create } from "@bufbuild/protobuf";
import { type Duration, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { getIdentity } from "@mcp/mcdsl/auth";
import {
  type Backend as BackendMessage,
  BackendSchema,
  CertificateRefSchema,
  type Route as RouteMessage,
  RouteMode,
  RouteSchema,
} from "@mcp/proto/mcproxy/v1/route_pb.js";
import { RouteService } from "@mcp/proto/mcproxy/v1/service_pb.js";
import type { RouteRegistry, RouteView } from "../routes/registry.js";
import { type Backend, RouteError, type RouteSpec } from "../routes/types.js";

const connectCode: Record<RouteError["code"], Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  UNAVAILABLE: Code.Unavailable,
};

/** Runs a handler body, turning RouteErrors into ConnectErrors with the matching code. */
async function call<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RouteError) throw new ConnectError(err.message, connectCode[err.code]);
    throw err;
  }
}

/** The caller's owner name: the request's, else the authenticated identity's (TCP), else "". */
function ownerOf(requested: string, ctx: HandlerContext): string {
  return requested || getIdentity(ctx)?.name || "";
}

export function routeServiceRoutes(registry: RouteRegistry) {
  return (router: ConnectRouter): void => {
    router.service(RouteService, {
      addRoute: (req, ctx) =>
        call(async () => {
          if (!req.route) throw new RouteError("INVALID_ARGUMENT", "route: required");
          const route = await registry.add(fromMessage(req.route, ownerOf(req.route.owner, ctx)));
          return { route: toMessage(route) };
        }),
      removeRoute: (req, ctx) =>
        call(async () => {
          if (req.id === "") throw new RouteError("INVALID_ARGUMENT", "id: must not be empty");
          await registry.remove(req.id, ownerOf(req.owner, ctx), req.allowMissing);
          return {};
        }),
      listRoutes: (req) =>
        call(() => ({
          routes: registry
            .list({ listenerPort: req.listenerPort, hostname: req.hostname, owner: req.owner })
            .map(toMessage),
        })),
      getRoute: (req) => call(() => ({ route: toMessage(registry.get(req.id)) })),
      setBackend: (req, ctx) =>
        call(async () => {
          const route = await registry.setBackend(
            req.id,
            req.backends.map(fromBackend),
            req.drainTimeout ? durationMs(req.drainTimeout) : undefined,
            ownerOf(req.owner, ctx),
          );
          return { route: toMessage(route) };
        }),
    });
  };
}

function durationMs(d: Duration): number {
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
  if (ms < 0) throw new RouteError("INVALID_ARGUMENT", "drain_timeout: must not be negative");
  return ms;
}

function fromBackend(b: BackendMessage): Backend {
  return { address: b.address.trim(), weight: b.weight };
}

function fromMessage(m: RouteMessage, owner: string): RouteSpec {
  const mode = m.mode === RouteMode.L4 ? "l4" : m.mode === RouteMode.L7 ? "l7" : undefined;
  if (!mode) throw new RouteError("INVALID_ARGUMENT", "route.mode: must be ROUTE_MODE_L4 or ROUTE_MODE_L7");
  return {
    listenerPort: m.listenerPort,
    hostname: m.hostname,
    mode,
    backends: m.backends.map(fromBackend),
    certificate: m.certificate
      ? { certFile: m.certificate.certFile, keyFile: m.certificate.keyFile, serial: m.certificate.serial }
      : undefined,
    owner,
    proxyProtocol: m.proxyProtocol,
  };
}

function toMessage(r: RouteView): RouteMessage {
  return create(RouteSchema, {
    id: r.id,
    listenerPort: r.listenerPort,
    hostname: r.hostname,
    mode: r.mode === "l4" ? RouteMode.L4 : RouteMode.L7,
    backends: r.backends.map((b) => create(BackendSchema, { address: b.address, weight: b.weight })),
    draining: r.draining.map((b) =>
      create(BackendSchema, {
        address: b.address,
        weight: b.weight,
        drainDeadline: timestampFromDate(b.deadline),
      }),
    ),
    certificate: r.certificate && create(CertificateRefSchema, r.certificate),
    owner: r.owner,
    bootstrap: r.bootstrap,
    proxyProtocol: r.proxyProtocol,
    createTime: timestampFromDate(r.createdAt),
    updateTime: timestampFromDate(r.updatedAt),
    notServed: r.notServed,
  });
}
