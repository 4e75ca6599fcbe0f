// A ServiceSpec from a request (Deploy, Plan, Sync) as a validated ServiceDefinition, with
// mcdsl's conversion (the CLI's too): the message is laid out as the TOML file would be and
// checked by mcdsl's servicedef, so an RPC and a file meet the same rules. A bad one is
// InvalidArgument naming every field that is wrong. (The other way is mcdsl's toServiceSpec.)
import { Code, ConnectError } from "@connectrpc/connect";
import { ConfigError } from "@mcp/mcdsl/config";
import {
  type ServiceDefinition,
  serviceDefinitionFromObject,
  serviceSpecObject,
} from "@mcp/mcdsl/servicedef";
import type { ServiceSpec } from "@mcp/proto/mcp/agent/v1/spec_pb.js";

export function toDefinition(spec: ServiceSpec | undefined, source = "service"): ServiceDefinition {
  if (!spec)
    throw new ConnectError(`${source}: the request carries no service definition`, Code.InvalidArgument);
  try {
    return serviceDefinitionFromObject(serviceSpecObject(spec), `${source} ${spec.name || "(unnamed)"}`);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
}
