// mcdsl/servicedef: the service-definition parser and validator shared by the CLI and the agent.
export { parseDuration } from "./duration.js";
export { MAX_ENV_ENTRY_BYTES } from "./env-checks.js";
export { formatServiceDefinition } from "./format.js";
export { serviceDefinitionFromObject } from "./from-object.js";
export { checkHostPath, TLS_MOUNT_DIR } from "./host-paths.js";
export {
  loadServiceDefinition,
  loadServiceDefinitions,
  parseServiceDefinition,
  type ServiceDefinitionOptions,
} from "./parse.js";
export { portVariable, TLS_VARIABLES } from "./port-variables.js";
export { fromServiceSpec, serviceSpecObject, serviceSpecToml, toServiceSpec } from "./spec-message.js";
export {
  type BuildSpec,
  type ComponentSpec,
  DEFAULT_HEALTH,
  DEFAULT_SERVICE_DOMAIN,
  type HealthCheck,
  type PortMapping,
  type RouteSpec,
  type ServiceDefinition,
  type VolumeMount,
} from "./types.js";
