// mcproxy_certificate_expiry_timestamp_seconds: when the certificate each L7 hostname serves
// expires, read at scrape time from what is loaded, so a renewal that never arrived shows up as
// an alert (`... - time() < 7 * 86400`) before clients see it.
import { Gauge, type Registry } from "prom-client";
import type { RouteTable } from "../dataplane/route-table.js";
import type { CertStore } from "./cert-store.js";

export function registerExpiryMetric(registry: Registry, table: RouteTable, certs: CertStore): void {
  new Gauge({
    name: "mcproxy_certificate_expiry_timestamp_seconds",
    help: "Unix time when the certificate served for an L7 hostname expires (the soonest, if its routes differ)",
    labelNames: ["hostname"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const soonest = new Map<string, number>();
      for (const { route } of table.all()) {
        const loaded = route.certificate && certs.loaded(route.certificate);
        if (!loaded) continue;
        const seen = soonest.get(route.hostname);
        if (seen === undefined || loaded.notAfter < seen) soonest.set(route.hostname, loaded.notAfter);
      }
      for (const [hostname, ms] of soonest) this.set({ hostname }, Math.floor(ms / 1000));
    },
  });
}
