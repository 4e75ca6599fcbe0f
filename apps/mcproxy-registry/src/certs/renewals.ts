// Swaps a renewed certificate in place when cert-broker publishes mcp.cert.renewed. The consumer is
// durable, so renewals published while mc-proxy was down are applied when it comes back.
import type { EventBus, EventData } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import type { RouteRegistry } from "../routes/registry.js";
import { RouteError } from "../routes/types.js";

export const RENEWALS_DURABLE = "mcproxy-cert-renewals";

export async function followRenewals(bus: EventBus, registry: RouteRegistry, logger: Logger) {
  return bus.subscribe<EventData<"mcp.cert.renewed">>({
    durable: RENEWALS_DURABLE,
    filter: "mcp.cert.renewed",
    handler: async (event) => {
      const hostname = event.subject ?? event.data.hostname;
      try {
        const count = registry.reloadCertificates(hostname, event.data.serial);
        logger.info({ hostname, serial: event.data.serial, routes: count }, "renewed certificate loaded");
      } catch (err) {
        // Files that cannot be read will not get better by retrying this event: the old
        // certificate keeps serving and the next renewal or an API call fixes it.
        if (!(err instanceof RouteError)) throw err;
        logger.error({ hostname, err: err.message }, "renewed certificate could not be loaded");
      }
    },
  });
}
