// The registry's schema (DESIGN.md section 5). One table per fact the agent must never lose:
// what is defined, what runs, what it leased and registered elsewhere, and the journal of every
// deploy saga so a crash at any step can be rolled back or forward at the next start.
import { outboxMigration } from "@mcp/mcdsl/events";
import type { Migration } from "@mcp/mcdsl/sqlite";

export const migrations: Migration[] = [
  {
    version: 1,
    name: "services, components, routes, leases, bindings, deploys and the saga journal",
    up: `
      -- A service definition as last deployed or synced (normalized ServiceDefinition as JSON, so
      -- export round-trips it) and what the operator wants of it.
      CREATE TABLE services (
        name              TEXT PRIMARY KEY,
        spec_json         TEXT NOT NULL,
        active            INTEGER NOT NULL CHECK (active IN (0, 1)),
        desired_state     TEXT NOT NULL CHECK (desired_state IN ('running', 'stopped')),
        current_deploy_id TEXT,               -- the last deploy that committed
        adopted           INTEGER NOT NULL DEFAULT 0 CHECK (adopted IN (0, 1)),
        created_ms        INTEGER NOT NULL,
        updated_ms        INTEGER NOT NULL
      );

      -- One row per component: desired vs observed state and the container that serves it now.
      CREATE TABLE components (
        service          TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
        name             TEXT NOT NULL,
        image            TEXT NOT NULL,
        desired_state    TEXT NOT NULL CHECK (desired_state IN ('running', 'stopped')),
        observed_state   TEXT NOT NULL DEFAULT 'unknown',
        observed_ms      INTEGER,
        exit_code        INTEGER,
        container_name   TEXT,
        container_id     TEXT,
        deploy_id        TEXT,                -- the deploy that made the container
        started_ms       INTEGER,
        restart_count    INTEGER NOT NULL DEFAULT 0,
        health           TEXT NOT NULL DEFAULT 'unknown'
                         CHECK (health IN ('unknown', 'healthy', 'unhealthy')),
        PRIMARY KEY (service, name)
      );
      CREATE UNIQUE INDEX components_by_container ON components(container_name)
        WHERE container_name IS NOT NULL;

      -- A route of a component and the host port its current container publishes.
      CREATE TABLE routes (
        service        TEXT NOT NULL,
        component      TEXT NOT NULL,
        name           TEXT NOT NULL,
        mode           TEXT NOT NULL CHECK (mode IN ('l4', 'l7')),
        proxy_port     INTEGER NOT NULL,
        hostnames_json TEXT NOT NULL,
        port_variable  TEXT NOT NULL,
        host_port      INTEGER,               -- NULL until a deploy leased one
        deploy_id      TEXT,
        PRIMARY KEY (service, component, name),
        FOREIGN KEY (service, component) REFERENCES components(service, name) ON DELETE CASCADE
      );

      -- Host ports the agent leased. A row exists before the container that uses the port is
      -- created (persisted before use); the primary key makes two owners of one port impossible.
      CREATE TABLE port_leases (
        host_port  INTEGER PRIMARY KEY CHECK (host_port BETWEEN 1 AND 65535),
        service    TEXT NOT NULL,
        component  TEXT NOT NULL,
        route      TEXT NOT NULL DEFAULT '',  -- '' for a legacy ports mapping
        deploy_id  TEXT NOT NULL,
        leased_ms  INTEGER NOT NULL
      );
      CREATE INDEX port_leases_by_deploy ON port_leases(deploy_id);
      CREATE INDEX port_leases_by_service ON port_leases(service);

      -- Certificates obtained from cert-broker (they outlive a stop: kept until expiry).
      CREATE TABLE certificates (
        service      TEXT NOT NULL,
        hostname     TEXT NOT NULL,
        serial       TEXT NOT NULL,
        not_after_ms INTEGER NOT NULL,
        cert_file    TEXT NOT NULL,
        key_file     TEXT NOT NULL,
        ca_file      TEXT NOT NULL,
        deploy_id    TEXT NOT NULL,
        PRIMARY KEY (service, hostname)
      );

      -- DNS records published in MCNS, by MCNS's record id.
      CREATE TABLE dns_records (
        record_id  TEXT PRIMARY KEY,
        service    TEXT NOT NULL,
        name       TEXT NOT NULL,
        type       TEXT NOT NULL,
        value      TEXT NOT NULL,
        deploy_id  TEXT NOT NULL
      );
      CREATE INDEX dns_records_by_service ON dns_records(service);

      -- Routes registered with mc-proxy, by mc-proxy's route id.
      CREATE TABLE proxy_routes (
        route_id      TEXT PRIMARY KEY,
        service       TEXT NOT NULL,
        component     TEXT NOT NULL,
        route         TEXT NOT NULL,
        hostname      TEXT NOT NULL,
        listener_port INTEGER NOT NULL,
        mode          TEXT NOT NULL CHECK (mode IN ('l4', 'l7')),
        backend       TEXT NOT NULL,
        deploy_id     TEXT NOT NULL
      );
      CREATE INDEX proxy_routes_by_service ON proxy_routes(service);

      -- Deploy history: one row per saga, with the definition it applied.
      CREATE TABLE deploys (
        id                 TEXT PRIMARY KEY,  -- ULID: the deploy_id of its events
        service            TEXT NOT NULL,
        kind               TEXT NOT NULL DEFAULT 'deploy',   -- deploy | start | stop | restart
        spec_json          TEXT NOT NULL,
        previous_deploy_id TEXT,
        outcome            TEXT NOT NULL
                           CHECK (outcome IN ('in_progress', 'completed', 'rolled_back')),
        error              TEXT,
        started_ms         INTEGER NOT NULL,
        ended_ms           INTEGER
      );
      CREATE INDEX deploys_by_service ON deploys(service, started_ms);
      CREATE INDEX deploys_in_progress ON deploys(outcome) WHERE outcome = 'in_progress';

      -- The saga journal: a row is written before a step runs and updated after it, so recovery
      -- knows which steps may have had effects (state 'started') and what to undo (payload).
      -- (Version 2 moved the event columns to deploy_events.)
      CREATE TABLE saga_journal (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        deploy_id    TEXT NOT NULL REFERENCES deploys(id) ON DELETE CASCADE,
        step         TEXT NOT NULL,
        component    TEXT NOT NULL DEFAULT '',
        state        TEXT NOT NULL CHECK (state IN
                       ('started', 'done', 'failed', 'compensating', 'compensated')),
        payload_json TEXT NOT NULL DEFAULT '{}',
        error        TEXT,
        event_id     TEXT,
        event_time_ms INTEGER,
        event_published INTEGER NOT NULL DEFAULT 0 CHECK (event_published IN (0, 1)),
        started_ms   INTEGER NOT NULL,
        ended_ms     INTEGER
      );
      CREATE INDEX saga_journal_by_deploy ON saga_journal(deploy_id, seq);
      CREATE INDEX saga_journal_unpublished ON saga_journal(event_published) WHERE event_published = 0;
    `,
  },
  {
    version: 2,
    name: "deploy events as an outbox (the journal's one-event-per-step columns did not fit)",
    up: `
      -- Every deploy event, written before it is published and marked when NATS acks it, so
      -- events a crash or an outage left unacknowledged are published again (same ULID: NATS
      -- de-duplicates) at the next start. A step may report several events (one per hostname).
      CREATE TABLE deploy_events (
        id         TEXT PRIMARY KEY,          -- ULID, the event's id on NATS
        deploy_id  TEXT NOT NULL REFERENCES deploys(id) ON DELETE CASCADE,
        type       TEXT NOT NULL,             -- mcp.deploy.<service>.<step>
        subject    TEXT,
        data_json  TEXT NOT NULL,
        time_ms    INTEGER NOT NULL,
        published  INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1))
      );
      CREATE INDEX deploy_events_unpublished ON deploy_events(published) WHERE published = 0;
      DROP INDEX saga_journal_unpublished;
      ALTER TABLE saga_journal DROP COLUMN event_id;
      ALTER TABLE saga_journal DROP COLUMN event_time_ms;
      ALTER TABLE saga_journal DROP COLUMN event_published;
    `,
  },
  // Deploy events wait in mcdsl's event outbox, written with the step's journal entry, until NATS
  // has them (published after the commit, retried while NATS is down, and at the next start).
  outboxMigration(3),
  {
    version: 4,
    name: "unpublished deploy events move into the event outbox",
    up: `
      -- Same ULID and time: JetStream keeps an event once even if the old build had published it
      -- and crashed before it marked it. Published rows are history NATS holds; they go.
      INSERT INTO event_outbox (id, type, subject, deploy_id, data, time_ms)
        SELECT id, type, subject, deploy_id, data_json, time_ms
        FROM deploy_events WHERE published = 0;
      DROP TABLE deploy_events;
    `,
  },
];
