import { create } from "@bufbuild/protobuf";
import { BackendSchema, type Route, RouteMode, RouteSchema } from "@mcp/proto/mcproxy/v1/route_pb.js";
import {
  AddRouteResponseSchema,
  ListRoutesResponseSchema,
  RouteService,
} from "@mcp/proto/mcproxy/v1/service_pb.js";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { messageJson } from "../output/json.js";
import { table } from "../output/table.js";
import { defaultOwner } from "../owner.js";

interface AddOptions {
  port: string;
  mode: string;
  cert?: string;
  key?: string;
  owner?: string;
  proxyProtocol?: boolean;
}

/** `mcp route list|add|rm`: mc-proxy's routes over mcproxy.v1.RouteService (what mcproxyctl did). */
export function registerRoute(program: Command): void {
  const route = program.command("route").description("list and manage mc-proxy routes");

  route
    .command("list")
    .description("routes (bootstrap routes included), by listener port and hostname")
    .option("--port <port>", "only routes on this listener port")
    .option("--hostname <name>", "only routes for this hostname")
    .option("--owner <owner>", "only routes of this owner")
    .action(async (options: { port?: string; hostname?: string; owner?: string }, command: Command) => {
      const context = contextOf(command);
      const response = await context.client(RouteService, "mcproxy").listRoutes({
        listenerPort: options.port ? port(options.port) : 0,
        hostname: options.hostname?.toLowerCase() ?? "",
        owner: options.owner ?? "",
      });
      context.print(
        table(
          ["ID", "PORT", "HOSTNAME", "MODE", "BACKENDS", "OWNER", "NOTES"],
          response.routes.map((r) => [
            r.id,
            r.listenerPort,
            r.hostname,
            modeName(r.mode),
            r.backends.map((b) => b.address).join(", "),
            r.owner || "-",
            notes(r),
          ]),
        ),
        messageJson(ListRoutesResponseSchema, response),
      );
    });

  route
    .command("add <hostname> <backend...>")
    .description("route connections for HOSTNAME on --port to the backends (host:port)")
    .requiredOption("--port <port>", "the port mc-proxy listens on, e.g. 443")
    .option("--mode <mode>", "l7 (mc-proxy terminates TLS) or l4 (TLS passes through)", "l7")
    .option(
      "--cert <file>",
      "L7: certificate chain on mc-proxy's node, an absolute path in its cert_dir or extra_cert_dirs (default <cert_dir>/<hostname>.pem)",
    )
    .option("--key <file>", "L7: its key (default <cert_dir>/<hostname>.key)")
    .option("--proxy-protocol", "send a PROXY protocol v2 header to the backend")
    .option("--owner <owner>", "who manages the route (default: your user name)")
    .action(async (hostname: string, backends: string[], options: AddOptions, command: Command) => {
      const context = contextOf(command);
      const mode = options.mode.toLowerCase();
      if (mode !== "l4" && mode !== "l7")
        throw new UsageError(`--mode must be l4 or l7, got "${options.mode}"`);
      if ((options.cert === undefined) !== (options.key === undefined)) {
        throw new UsageError("--cert and --key go together");
      }
      const response = await context.client(RouteService, "mcproxy").addRoute({
        route: create(RouteSchema, {
          listenerPort: port(options.port),
          hostname: hostname.toLowerCase().replace(/\.$/, ""),
          mode: mode === "l4" ? RouteMode.L4 : RouteMode.L7,
          backends: backends.map((address) => create(BackendSchema, { address })),
          certificate: options.cert ? { certFile: options.cert, keyFile: options.key ?? "" } : undefined,
          owner: options.owner ?? defaultOwner(),
          proxyProtocol: options.proxyProtocol ?? false,
        }),
      });
      const r = response.route!;
      context.print(
        `added route ${r.id}: ${r.hostname}:${r.listenerPort} (${modeName(r.mode)}) -> ${r.backends
          .map((b) => b.address)
          .join(", ")}`,
        messageJson(AddRouteResponseSchema, response),
      );
    });

  route
    .command("rm <id>")
    .description("remove a route; its open connections are closed")
    .option("--owner <owner>", "the route's owner (default: your user name)")
    .action(async (id: string, options: { owner?: string }, command: Command) => {
      const context = contextOf(command);
      const client = context.client(RouteService, "mcproxy");
      const { route: r } = await client.getRoute({ id });
      await client.removeRoute({ id, owner: options.owner ?? defaultOwner() });
      context.print(`removed route ${id}: ${r!.hostname}:${r!.listenerPort}`, {
        removed: messageJson(RouteSchema, r!),
      });
    });
}

function port(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new UsageError(`--port must be 1-65535, got "${text}"`);
  return n;
}

function modeName(mode: RouteMode): string {
  return mode === RouteMode.L4 ? "l4" : mode === RouteMode.L7 ? "l7" : "-";
}

function notes(route: Route): string {
  const parts: string[] = [];
  if (route.notServed) parts.push(`NOT SERVED: ${route.notServed}`);
  if (route.bootstrap) parts.push("bootstrap");
  if (route.proxyProtocol) parts.push("proxy-protocol");
  if (route.draining.length > 0) parts.push(`draining ${route.draining.map((b) => b.address).join(", ")}`);
  return parts.join("; ") || "-";
}
