// mcp.agent.v1.AgentService over the registry and the runtime: protobuf types stay in api/.
// The saga's RPCs (Deploy, Plan, Stop/Start/RestartService) go through saga/operations.ts, Sync
// and Adopt through saga/sync.ts and saga/adopt.ts; file transfers are api/files.ts.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { getIdentity } from "@mcp/mcdsl/auth";
import type { EventBus } from "@mcp/mcdsl/events";
import { toServiceSpec } from "@mcp/mcdsl/servicedef";
import { AgentService, SyncAction } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { NodeInfoSchema } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { PodmanError } from "../runtime/errors.js";
import { adoptContainers } from "../saga/adopt.js";
import type { Operations } from "../saga/operations.js";
import { syncServices } from "../saga/sync.js";
import { type NodeContext, nodeInfo } from "../status/node-info.js";
import type { StatusReader } from "../status/observe.js";
import { peerDrift } from "../status/peer-drift.js";
import type { Registry } from "../store/registry.js";
import { toConnectError, toDeployResponse, toPlanResponse } from "./deploy.js";
import { type FilesConfig, pullFile, pushFile } from "./files.js";
import { ProgressQueue } from "./progress-queue.js";
import { toDefinition } from "./spec-in.js";
import {
  toCertificateBinding,
  toDrift,
  toPortLease,
  toRecordBinding,
  toRouteBinding,
  toServiceInfo,
} from "./status.js";
import { watchEvents } from "./watch.js";

export interface AgentServiceDeps {
  registry: Registry;
  status: StatusReader;
  node: NodeContext;
  operations: Operations;
  bus?: EventBus;
  files: FilesConfig;
}

const SYNC_ACTIONS = {
  unchanged: SyncAction.UNCHANGED,
  deployed: SyncAction.DEPLOYED,
  stopped: SyncAction.STOPPED,
  removed: SyncAction.REMOVED,
  failed: SyncAction.FAILED,
} as const;

const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Reads are open to any valid token; environment values (secrets) only to the admin role. */
const envValuesFor = (ctx: HandlerContext) =>
  getIdentity(ctx)?.roles.includes("admin") ? "shown" : "hidden";

export function agentRoutes(deps: AgentServiceDeps) {
  const { registry, status, operations } = deps;
  const serviceInfo = async (name: string) => {
    const [state] = await observe(() => status.services(name));
    return state && toServiceInfo(state);
  };
  return (router: ConnectRouter): void => {
    router.service(AgentService, {
      listServices: async (_req, ctx) => {
        const states = await observe(() => status.services());
        return { services: states.map((state) => toServiceInfo(state, envValuesFor(ctx))) };
      },

      getServiceStatus: async (req, ctx) => {
        checkName(req.name);
        const [state] = await observe(() => status.services(req.name));
        if (!state) throw new ConnectError(`service "${req.name}" is not in the registry`, Code.NotFound);
        return {
          service: toServiceInfo(state, envValuesFor(ctx)),
          ports: registry.leases.list(req.name).map(toPortLease),
          certificates: registry.bindings.certificates(req.name).map(toCertificateBinding),
          routes: registry.bindings.proxyRoutes(req.name).map(toRouteBinding),
          records: registry.bindings.records(req.name).map(toRecordBinding),
          drift: [
            ...status.drift(state),
            ...(state.service.desiredState === "running"
              ? await peerDrift(registry, operations.deps.peers, req.name)
              : []),
          ].map(toDrift),
        };
      },

      getNodeInfo: async () => {
        const info = await nodeInfo(deps.node);
        return {
          node: create(NodeInfoSchema, {
            ...info,
            memoryTotalBytes: BigInt(info.memoryTotalBytes),
            memoryAvailableBytes: BigInt(info.memoryAvailableBytes),
            agentStartTime: timestampFromDate(info.agentStartTime),
            portRangeMin: info.portRange.min,
            portRangeMax: info.portRange.max,
          }),
        };
      },

      async *deploy(req) {
        const definition = toDefinition(req.service);
        const queue = new ProgressQueue<ReturnType<typeof toDeployResponse>>();
        operations
          .deploy(definition, {
            components: req.components,
            onProgress: (p) => queue.push(toDeployResponse(p)),
          })
          .then(
            () => queue.end(),
            (err: unknown) => queue.end(toConnectError(err)),
          );
        // The saga runs to its end even when the caller goes away: a deploy is never left half done.
        yield* queue.drain();
      },

      plan: async (req) => {
        const definition = toDefinition(req.service);
        return toPlanResponse(await operations.plan(definition, req.components).catch(fail));
      },

      stopService: async (req) => {
        checkName(req.name);
        await operations.stop(req.name, req.components).catch(fail);
        return { service: await serviceInfo(req.name) };
      },

      startService: async (req) => {
        checkName(req.name);
        const deployId = await operations.start(req.name, req.components).catch(fail);
        return { service: await serviceInfo(req.name), deployId };
      },

      restartService: async (req) => {
        checkName(req.name);
        await operations.restart(req.name, req.components).catch(fail);
        return { service: await serviceInfo(req.name) };
      },
      syncServices: async (req) => {
        const definitions = req.services.map((spec, i) => toDefinition(spec, `services[${i}]`));
        for (const d of definitions) {
          if (d.node && d.node !== deps.node.name) {
            throw new ConnectError(
              `${d.name} is defined for node "${d.node}", and this agent is node "${deps.node.name}"`,
              Code.FailedPrecondition,
            );
          }
        }
        const results = await syncServices(operations, definitions, { prune: req.prune, dryRun: req.dryRun });
        return {
          results: results.map((r) => ({
            service: r.service,
            action: SYNC_ACTIONS[r.action],
            deployId: r.deployId ?? "",
            error: r.error ?? "",
          })),
        };
      },
      adoptContainers: async (req) => {
        checkName(req.service);
        const { adopted, definition } = await operations.locks
          .with(req.service, "an adoption", () =>
            adoptContainers(operations.deps, req.service, req.containers),
          )
          .catch(fail);
        const spec = toServiceSpec(definition);
        return {
          adopted: adopted.map((a) => ({
            ...a,
            spec: spec.components.find((c) => c.name === a.component),
          })),
          service: await serviceInfo(req.service),
        };
      },
      pushFile: (requests) => pushFile(deps.files, requests),
      pullFile: (req) => pullFile(deps.files, req),
      watchEvents: (req, ctx) => watchEvents(deps.bus, req, ctx.signal),
    });
  };
}

function fail(err: unknown): never {
  throw toConnectError(err);
}

function checkName(name: string): void {
  if (!SERVICE_NAME.test(name)) {
    throw new ConnectError(
      `service name ${JSON.stringify(name)} must be [a-z0-9-], 1 to 63 characters`,
      Code.InvalidArgument,
    );
  }
}

/** podman failing is Unavailable for the caller (the registry is fine, the runtime is not). */
async function observe<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PodmanError) throw new ConnectError(`podman: ${err.message}`, Code.Unavailable);
    throw err;
  }
}
