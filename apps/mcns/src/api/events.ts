// Record changes as mcp.dns.{created,updated,deleted} events on NATS, the record name in the
// envelope's subject (its dots would split a NATS subject).
import type { EventBus } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import { type DnsRecord, formatData } from "../store/record.js";

/** Publishes awaited together in a bulk change. */
const PUBLISH_WINDOW = 64;

export class RecordEvents {
  constructor(
    private readonly logger: Logger,
    private readonly bus?: Pick<EventBus, "publish">,
  ) {}

  /**
   * Publishes and waits for the stream's ack. The change is committed already, so a NATS outage is
   * logged rather than failing the call that made it.
   */
  async changed(kind: "created" | "updated" | "deleted", r: DnsRecord): Promise<void> {
    if (!this.bus) return;
    const base = { recordId: r.id, zone: r.zone, name: r.name, type: r.data.type };
    try {
      if (kind === "deleted") await this.bus.publish("mcp.dns.deleted", base, { subject: r.name });
      else {
        await this.bus.publish(
          `mcp.dns.${kind}`,
          { ...base, value: formatData(r.data), owner: r.owner },
          { subject: r.name },
        );
      }
    } catch (err) {
      this.logger.warn({ err, record: r.id, event: `mcp.dns.${kind}` }, "could not publish the record event");
    }
  }

  /**
   * `mcp.dns.created` for each record of a bulk change (zone import). A window of publishes is
   * awaited together (one ack round trip per record would make a large import slow); events of
   * one window may land in the stream in any order among themselves.
   */
  async createdMany(records: DnsRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += PUBLISH_WINDOW) {
      await Promise.all(records.slice(i, i + PUBLISH_WINDOW).map((r) => this.changed("created", r)));
    }
  }
}
