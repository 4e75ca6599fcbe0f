// DNS query metrics. Counting in plain typed arrays keeps the hot path to a few additions; the
// numbers become Prometheus metrics (through the API server's prom-client registry) only when
// /metrics is scraped.
import type { Server } from "@mcp/mcdsl/server";
import { TYPE, TYPE_ANY, TYPE_AXFR, TYPE_IXFR } from "./wire.js";

type Registry = Server["registry"];
type RegisteredMetric = Parameters<Registry["registerMetric"]>[0];

const TYPE_NAMES: Record<number, string> = {
  ...Object.fromEntries(Object.entries(TYPE).map(([name, n]) => [n, name])),
  [TYPE_ANY]: "ANY",
  [TYPE_AXFR]: "AXFR",
  [TYPE_IXFR]: "IXFR",
};
const TYPE_SLOTS = Object.keys(TYPE_NAMES).map(Number);
const OTHER_TYPE = TYPE_SLOTS.length;
const RCODE_NAMES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  16: "BADVERS",
};
const RCODES = 17;
/** Latency buckets in seconds: answering from memory takes microseconds. */
const BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1];

export class QueryStats {
  readonly #slot = new Map<number, number>(TYPE_SLOTS.map((t, i) => [t, i]));
  readonly #counts = new Float64Array((TYPE_SLOTS.length + 1) * RCODES);
  readonly #latency = new Float64Array(BUCKETS.length + 1);
  #latencySum = 0;
  /** Messages not answered: unreadable, or responses sent to us. */
  dropped = 0;
  /** Queries dropped or refused because the server was over its concurrency limit. */
  shed = 0;

  record(qtype: number, rcode: number, ms: number): void {
    const slot = this.#slot.get(qtype) ?? OTHER_TYPE;
    this.#counts[slot * RCODES + (rcode < RCODES ? rcode : 2)]!++;
    const seconds = ms / 1000;
    this.#latencySum += seconds;
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]!) b++;
    this.#latency[b]!++;
  }

  /** Registers dns_* metrics; `recordCounts` gives the records per zone at scrape time. */
  register(registry: Registry, recordCounts: () => Map<string, number>): void {
    const metric = (name: string, help: string, type: string, values: () => object[]) =>
      registry.registerMetric({
        name,
        get: () => ({ name, help, type, aggregator: "sum", values: values() }),
      } as unknown as RegisteredMetric);

    metric("dns_queries_total", "DNS queries answered, by query type and response code", "counter", () => {
      const values: object[] = [];
      this.#counts.forEach((value, i) => {
        if (value === 0) return;
        const slot = Math.floor(i / RCODES);
        const rcode = i % RCODES;
        const type = slot === OTHER_TYPE ? "OTHER" : TYPE_NAMES[TYPE_SLOTS[slot]!]!;
        values.push({ labels: { type, rcode: RCODE_NAMES[rcode] ?? String(rcode) }, value });
      });
      return values;
    });
    metric(
      "dns_query_duration_seconds",
      "Time to answer a DNS query, from parse to reply",
      "histogram",
      () => {
        let cumulative = 0;
        const values: object[] = BUCKETS.map((le, b) => {
          cumulative += this.#latency[b]!;
          return { metricName: "dns_query_duration_seconds_bucket", labels: { le }, value: cumulative };
        });
        cumulative += this.#latency[BUCKETS.length]!;
        values.push({
          metricName: "dns_query_duration_seconds_bucket",
          labels: { le: "+Inf" },
          value: cumulative,
        });
        values.push({ metricName: "dns_query_duration_seconds_sum", labels: {}, value: this.#latencySum });
        values.push({ metricName: "dns_query_duration_seconds_count", labels: {}, value: cumulative });
        return values;
      },
    );
    metric(
      "dns_dropped_total",
      "DNS messages dropped unanswered (unreadable, or responses)",
      "counter",
      () => [{ labels: {}, value: this.dropped }],
    );
    metric(
      "dns_shed_total",
      "DNS queries shed because the server was over its concurrency limit",
      "counter",
      () => [{ labels: {}, value: this.shed }],
    );
    metric("dns_zone_records", "Records per zone (SOA and apex NS not counted)", "gauge", () =>
      [...recordCounts()].map(([zone, value]) => ({ labels: { zone }, value })),
    );
  }
}
