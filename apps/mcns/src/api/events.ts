// Record changes as mcp.dns.{created,updated,deleted} events, the record name in the envelope's
// subject (its dots would split a NATS subject). Each is recorded in the event outbox inside the
// transaction that makes the change (store.batch), and published after the commit (flush): a NATS
// outage neither fails nor holds up the call, and the event is published once NATS is back or at the
// next start.
import type { EventOutbox } from "@mcp/mcdsl/events";
import { type DnsRecord, formatData } from "../store/record.js";

/** Records record events: call changed() inside the change's store.batch(), then flush() after it. */
export class RecordEvents {
  constructor(private readonly outbox: EventOutbox) {}

  changed(kind: "created" | "updated" | "deleted", r: DnsRecord): void {
    const base = { recordId: r.id, zone: r.zone, name: r.name, type: r.data.type };
    if (kind === "deleted") this.outbox.record("mcp.dns.deleted", base, { subject: r.name });
    else {
      this.outbox.record(
        `mcp.dns.${kind}`,
        { ...base, value: formatData(r.data), owner: r.owner },
        { subject: r.name },
      );
    }
  }

  /** Publishes what was recorded (see EventOutbox.flush: it never waits long on an outage). */
  flush(): Promise<void> {
    return this.outbox.flush();
  }
}
