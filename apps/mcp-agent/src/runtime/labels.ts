// Labels on every container the agent makes: they tie a container to its service, component
// and deploy, so listing, crash recovery and the monitor find the agent's containers in podman
// itself, even when the registry lost track (a crash between create and commit).
export const LABEL_MANAGED = "mcp.managed";
export const LABEL_SERVICE = "mcp.service";
export const LABEL_COMPONENT = "mcp.component";
export const LABEL_DEPLOY = "mcp.deploy";

export function agentLabels(service: string, component: string, deployId: string): Record<string, string> {
  return {
    [LABEL_MANAGED]: "true",
    [LABEL_SERVICE]: service,
    [LABEL_COMPONENT]: component,
    [LABEL_DEPLOY]: deployId,
  };
}
