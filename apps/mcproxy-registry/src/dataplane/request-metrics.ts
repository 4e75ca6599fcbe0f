// Per-request metrics kept as plain numbers and handed to prom-client at scrape time. Updating a
// prom-client metric hashes its labels into a string and looks that up on every call (about
// 0.5 µs, and more in the proxy's hot loop): once per proxied request, that was a measurable share
// of the proxy's CPU. Here a response costs a Map update and a bucket increment; the registry reads
// the tallies when /metrics is scraped.
import { Counter, type Metric, type Registry } from "prom-client";

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One route's requests: responses by status code, and their latency. */
export class RouteMeters {
  /** Responses by status code. */
  readonly codes = new Map<number, number>();
  /** Observations per bucket, not cumulative; the last one is past every bound (+Inf). */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  /** Seconds, all observations together. */
  sum = 0;
  count = 0;

  constructor(readonly route: string) {}

  /** Counts a response with `code`, `startedAt` being performance.now() when the request came in. */
  answered(code: number, startedAt: number): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    const seconds = (performance.now() - startedAt) / 1000;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]!) bucket++;
    this.buckets[bucket]!++;
    this.sum += seconds;
    this.count++;
  }
}

const REQUESTS = "mcproxy_http_requests_total";
const DURATION = "mcproxy_http_request_duration_seconds";

/**
 * Registers `mcproxy_http_requests_total` (a prom-client Counter filled at scrape time) and
 * `mcproxy_http_request_duration_seconds` (a histogram collector in prom-client's metric shape,
 * the one `getMetricsAsJSON` documents) for the routes `meters` yields.
 */
export function registerRequestMetrics(registry: Registry, meters: () => Iterable<RouteMeters>): void {
  new Counter({
    name: REQUESTS,
    help: "HTTP requests through L7 routes, by route hostname and status code",
    labelNames: ["route", "code"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const m of meters()) {
        for (const [code, n] of m.codes) this.inc({ route: m.route, code: String(code) }, n);
      }
    },
  });
  registry.registerMetric(new LatencyHistogram(meters) as unknown as Metric);
}

/** A sample as prom-client's registry formats it (the shape `getMetricsAsJSON` gives). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** The latency histogram, read from the routes' tallies when the registry asks for it. */
class LatencyHistogram {
  readonly name = DURATION;
  readonly help = "L7 request latency, from the request to the backend's response headers";
  readonly type = "histogram";
  readonly aggregator = "sum";

  constructor(private readonly meters: () => Iterable<RouteMeters>) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const m of this.meters()) {
      let below = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        below += m.buckets[i]!;
        values.push({ metricName: `${DURATION}_bucket`, labels: { le, route: m.route }, value: below });
      });
      values.push(
        { metricName: `${DURATION}_bucket`, labels: { le: "+Inf", route: m.route }, value: m.count },
        { metricName: `${DURATION}_sum`, labels: { route: m.route }, value: m.sum },
        { metricName: `${DURATION}_count`, labels: { route: m.route }, value: m.count },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): the tallies belong to the routes and are not reset. */
  reset(): void {}
}
