// mcp.agent.v1.AgentService over the registry and the runtime: protobuf types stay in api/.
// Implemented: ListServices, GetServiceStatus, GetNodeInfo. The rest answer Unimplemented until
// the deploy saga lands (issue 7).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { NodeInfoSchema } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { PodmanError } from "../runtime/errors.js";
import { type NodeContext, nodeInfo } from "../status/node-info.js";
import type { StatusReader } from "../status/observe.js";
import type { Registry } from "../store/registry.js";
import {
  toCertificateBinding,
  toDrift,
  toPortLease,
  toRecordBinding,
  toRouteBinding,
  toServiceInfo,
} from "./status.js";

export interface AgentServiceDeps {
  registry: Registry;
  status: StatusReader;
  node: NodeContext;
}

const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function agentRoutes(deps: AgentServiceDeps) {
  const { registry, status } = deps;
  return (router: ConnectRouter): void => {
    router.service(AgentService, {
      listServices: async () => {
        const states = await observe(() => status.services());
        return { services: states.map(toServiceInfo) };
      },

      getServiceStatus: async (req) => {
        checkName(req.name);
        const [state] = await observe(() => status.services(req.name));
        if (!state) throw new ConnectError(`service "${req.name}" is not in the registry`, Code.NotFound);
        return {
          service: toServiceInfo(state),
          ports: registry.leases.list(req.name).map(toPortLease),
          certificates: registry.bindings.certificates(req.name).map(toCertificateBinding),
          routes: registry.bindings.proxyRoutes(req.name).map(toRouteBinding),
          records: registry.bindings.records(req.name).map(toRecordBinding),
          drift: status.drift(state).map(toDrift),
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

      deploy: () => unimplemented("Deploy"),
      plan: () => unimplemented("Plan"),
      stopService: () => unimplemented("StopService"),
      startService: () => unimplemented("StartService"),
      restartService: () => unimplemented("RestartService"),
      syncServices: () => unimplemented("SyncServices"),
      adoptContainers: () => unimplemented("AdoptContainers"),
      pushFile: () => unimplemented("PushFile"),
      pullFile: () => unimplemented("PullFile"),
      watchEvents: () => unimplemented("WatchEvents"),
    });
  };
}

function unimplemented(rpc: string): never {
  throw new ConnectError(
    `${rpc} is not implemented by this agent yet: it comes with the deploy saga (issue 7)`,
    Code.Unimplemented,
  );
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
