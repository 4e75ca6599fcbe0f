// The agent's registry: one SQLite file (mcdsl/sqlite: WAL, synchronous=FULL, migrations) with a
// store per concern. Stores share the connection; a caller needing several of them in one
// transaction wraps its calls in `registry.transaction(fn)`.
import { EventOutbox, type EventOutboxOptions } from "@mcp/mcdsl/events";
import { type Database, openDatabase } from "@mcp/mcdsl/sqlite";
import { BindingStore } from "./bindings.js";
import { ComponentStore } from "./components.js";
import { JournalStore } from "./journal.js";
import { LeaseStore } from "./leases.js";
import { migrations } from "./schema.js";
import { ServiceStore } from "./services.js";

export class Registry {
  readonly db: Database;
  readonly services: ServiceStore;
  readonly components: ComponentStore;
  readonly leases: LeaseStore;
  readonly bindings: BindingStore;
  readonly journal: JournalStore;

  constructor(path: string) {
    this.db = openDatabase(path, { migrations });
    this.services = new ServiceStore(this.db);
    this.components = new ComponentStore(this.db);
    this.leases = new LeaseStore(this.db);
    this.bindings = new BindingStore(this.db);
    this.journal = new JournalStore(this.db);
  }

  /** The event outbox in this file: events recorded inside transaction() commit with its changes. */
  outbox(options: EventOutboxOptions): EventOutbox {
    return new EventOutbox(this.db, options);
  }

  /** Runs fn in one SQLite transaction (nested calls become savepoints); a throw rolls it back. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
