// Calling the agent as the CLI does, and checking the world as an operator would: a deploy's
// streamed progress, dig against MCNS, HTTPS through mc-proxy verified against the root CA, the
// deploy events on NATS, podman's containers.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import type { Client } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { connectEvents } from "@mcp/mcdsl/events";
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { toServiceSpec } from "@mcp/mcdsl/servicedef";
import { curl } from "@mcp/mcdsl/testing";
import { DeployStep, StepStatus } from "@mcp/proto/mcp/agent/v1/deploy_pb.js";
import type { AgentService, DeployResponse } from "@mcp/proto/mcp/agent/v1/service_pb.js";

export interface DeployRun {
  responses: DeployResponse[];
  /** "started done", "port.leased done", … */
  steps: string[];
  deployId: string;
  error?: ConnectError;
  /** From the last response to the end of the stream (ms): what the deploy spent after `completed`. */
  tailMs: number;
}

const stepName = (s: DeployStep) => DeployStep[s]!.toLowerCase();
const statusName = (s: StepStatus) => StepStatus[s]!.toLowerCase();

export async function deploy(
  client: Client<typeof AgentService>,
  definition: ServiceDefinition,
  components: string[] = [],
): Promise<DeployRun> {
  const responses: DeployResponse[] = [];
  let error: ConnectError | undefined;
  let lastAt = Date.now();
  try {
    for await (const r of client.deploy({ service: toServiceSpec(definition), components })) {
      responses.push(r);
      lastAt = Date.now();
    }
  } catch (err) {
    error = ConnectError.from(err);
  }
  return {
    responses,
    steps: responses.map((r) => `${stepName(r.step)} ${statusName(r.status)}`),
    deployId: responses[0]?.deployId ?? "",
    error,
    tailMs: Date.now() - lastAt,
  };
}

/** `dig +short` against MCNS. */
export function dig(port: number, name: string): string {
  return execFileSync("dig", ["@127.0.0.1", "-p", String(port), "+short", "+time=2", "+tries=1", name, "A"], {
    encoding: "utf8",
  }).trim();
}

/** curl through mc-proxy with the name resolved to 127.0.0.1 and only the root CA trusted. */
export function curlThrough(port: number, hostname: string, rootCa: string) {
  return curl(
    "--cacert",
    rootCa,
    "--resolve",
    `${hostname}:${port}:127.0.0.1`,
    `https://${hostname}:${port}/`,
  );
}

/** The steps a first deploy of a one-route service reports (streamed and on NATS), in order. */
export const ONE_ROUTE_STEPS = [
  "started",
  "port.leased",
  "cert.ready",
  "container.started",
  "health.passed",
  "dns.published",
  "route.added",
  "completed",
];

/** The deploy events of a service on NATS, as "type deployId" in stream order. */
export async function deployEvents(
  natsUrl: string,
  service: string,
): Promise<{ type: string; deployId?: string; data: Record<string, unknown> }[]> {
  const bus = await connectEvents({ servers: natsUrl, name: "test", app: "test", node: "test" });
  try {
    const out = [];
    for await (const e of bus.replay({ filter: `mcp.deploy.${service}.>` })) {
      out.push({ type: e.type, deployId: e.deployId, data: e.data as Record<string, unknown> });
    }
    return out;
  } finally {
    await bus.close();
  }
}

export function containers(service: string): { name: string; state: string; deploy: string }[] {
  const out = execFileSync(
    "podman",
    ["ps", "--all", "--format", "json", "--filter", `label=mcp.service=${service}`],
    {
      encoding: "utf8",
    },
  );
  return (
    (JSON.parse(out) ?? []) as { Names: string[]; State: string; Labels: Record<string, string> }[]
  ).map((c) => ({
    name: c.Names[0]!,
    state: c.State,
    deploy: c.Labels["mcp.deploy"] ?? "",
  }));
}

/**
 * Requests through mc-proxy in two loops (keep-alive) until stopped; counts answers and failures,
 * and the distinct bodies seen.
 */
export function requestLoop(port: number, hostname: string, rootCa: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 2, ca: readFileSync(rootCa) });
  let running = true;
  const stats = { ok: 0, failed: 0, errors: [] as string[], bodies: new Set<string>() };
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          servername: hostname,
          headers: { host: hostname },
          path: "/",
          agent,
          timeout: 10_000,
        },
        (res) => {
          let body = "";
          res.on("data", (c) => {
            body += c;
          });
          res.on("end", () => {
            if (res.statusCode === 200) {
              stats.ok++;
              stats.bodies.add(body.trim());
            } else {
              stats.failed++;
              stats.errors.push(`status ${res.statusCode}: ${body.trim()}`);
            }
            resolve();
          });
        },
      );
      req.on("error", (err) => {
        stats.failed++;
        stats.errors.push(err.message);
        resolve();
      });
      req.end();
    });
  const loop = async () => {
    while (running) await one();
  };
  const loops = [loop(), loop()];
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return stats;
    },
  };
}
