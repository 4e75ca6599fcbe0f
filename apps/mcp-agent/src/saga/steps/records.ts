// dns.published: an A record per name the service serves, pointing at this node, owned by the
// service in MCNS. Names outside MCNS's zones are skipped with a warning; a name already
// published with this address (the registry says so and MCNS still has it) is skipped; one the
// registry knows but MCNS lost is created again. Undo: delete what this deploy created.
import type { SagaDeps } from "../context.js";
import type { Compensator, Step } from "../step.js";

export function recordStep(deps: SagaDeps, name: string): Step {
  return {
    name: "dns.published",
    intent: () => ({ name }),
    async run(state) {
      const address = deps.node.address;
      const skip = (message: string, warning?: string) => ({
        reports: [
          {
            step: "dns.published" as const,
            status: "skipped" as const,
            subject: name,
            message,
            detail: { name, address, ...(warning ? { warning } : {}) },
          },
        ],
      });
      const mcns = deps.peers.mcns;
      if (!mcns)
        return skip(`no record for ${name}: no MCNS is configured ([mcns] url)`, "no MCNS configured");
      const bound = deps.registry.bindings.records(state.service).find((r) => r.name === name);
      if (bound) {
        // The registry may be older than MCNS (restored from a backup): trust MCNS, not the binding.
        const held = await mcns.get(bound.recordId);
        if (held && held.value === address && bound.value === address)
          return skip(`${name} A ${address} is published already`);
        if (!held) deps.registry.bindings.removeRecord(bound.recordId);
      }
      state.zones ??= await mcns.zones();
      const zone = state.zones.find((z) => name === z || name.endsWith(`.${z}`));
      if (!zone) {
        const warning = `${name} is outside MCNS's zones (${state.zones.join(", ") || "none"}); no record published`;
        return skip(warning, warning);
      }
      const record = await mcns.createA(name, address, state.service, deps.recordTtl);
      deps.registry.bindings.putRecord({
        recordId: record.id,
        service: state.service,
        name,
        type: "A",
        value: address,
        deployId: state.deploy.id,
      });
      return {
        payload: { recordId: record.id },
        reports: [
          {
            step: "dns.published",
            status: "done",
            subject: name,
            message: `${name} A ${address} (record ${record.id})`,
            detail: { name, recordId: record.id, address },
          },
        ],
      };
    },
  };
}

export const undoRecord: Compensator = async (deps, deploy, payload) => {
  const mcns = deps.peers.mcns;
  if (!mcns) return;
  const name = String(payload.name);
  const ids = payload.recordId
    ? [String(payload.recordId)]
    : // Crashed mid-create: whatever MCNS holds for the name from this service but the registry
      // does not know came from this step.
      (await mcns.find(name, deploy.service))
        .map((r) => r.id)
        .filter((id) => !deps.registry.bindings.records(deploy.service).some((b) => b.recordId === id));
  for (const id of ids) {
    await mcns.delete(id, deploy.service);
    deps.registry.bindings.removeRecord(id);
  }
};
