// The old mc-proxy route file, still read at start so mc-proxy's own routes (and the platform's
// apps) are reachable before any agent runs. Its format is described in the README.
import {
  ConfigError,
  type ConfigIssue,
  checkSchema,
  issueAt,
  parseListenAddress,
  readTomlFile,
  z,
} from "@mcp/mcdsl/config";
import { RouteError, type RouteSpec } from "../routes/types.js";
import { checkRouteSpec } from "../routes/validate.js";

const routeSchema = z.strictObject({
  hostname: z.string(),
  /** One backend, as the old file wrote it; `backends` lists several. */
  backend: z.string().optional(),
  backends: z.array(z.string()).optional(),
  mode: z.enum(["l4", "l7"]).default("l4"),
  proxy_protocol: z.boolean().default(false),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
});

const fileSchema = z.strictObject({
  listeners: z
    .array(
      z.strictObject({
        /** ":443" or "0.0.0.0:443": only the port is used; the proxy binds [proxy] bind. */
        addr: z.string(),
        routes: z.array(routeSchema).default([]),
      }),
    )
    .default([]),
});

/** Reads the bootstrap file; every problem is reported at its line. A missing file is no routes. */
export function loadBootstrapRoutes(file: string, certDir: string): RouteSpec[] {
  const source = readTomlFile(file, true);
  if (!source) return [];
  const context = { file, positions: source.positions };
  const checked = checkSchema(fileSchema, source.data, context);
  if (!checked.ok) throw new ConfigError(checked.issues);

  const issues: ConfigIssue[] = [];
  const specs: RouteSpec[] = [];
  const seen = new Set<string>();
  checked.value.listeners.forEach((listener, i) => {
    let port: number;
    try {
      port = parseListenAddress(listener.addr).port;
    } catch {
      issues.push(issueAt(context, ["listeners", i, "addr"], `"${listener.addr}" is not host:port or :port`));
      return;
    }
    listener.routes.forEach((r, j) => {
      const at = ["listeners", i, "routes", j];
      const backends = [...(r.backend ? [r.backend] : []), ...(r.backends ?? [])];
      try {
        const spec = checkRouteSpec(
          {
            listenerPort: port,
            hostname: r.hostname,
            mode: r.mode,
            backends: backends.map((address) => ({ address, weight: 1 })),
            certificate:
              r.cert_file || r.key_file
                ? { certFile: r.cert_file ?? "", keyFile: r.key_file ?? "", serial: "" }
                : undefined,
            owner: "bootstrap",
            proxyProtocol: r.proxy_protocol,
          },
          certDir,
        );
        const key = `${spec.listenerPort} ${spec.hostname}`;
        if (seen.has(key)) throw new RouteError("INVALID_ARGUMENT", `${spec.hostname} on port ${port} twice`);
        seen.add(key);
        specs.push(spec);
      } catch (err) {
        if (!(err instanceof RouteError)) throw err;
        issues.push(issueAt(context, at, err.message));
      }
    });
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return specs;
}
