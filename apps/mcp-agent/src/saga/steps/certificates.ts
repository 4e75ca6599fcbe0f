// cert.ready: one certificate for every name the service's routes serve (cert-broker returns the
// current one when it is still good), recorded per hostname, and the platform's root CA written
// for TLS_CA_FILE. Certificates are never undone: they stay valid for the next deploy.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { SagaDeps } from "../context.js";
import { serviceHostnames } from "../plan.js";
import type { Step, StepReport } from "../step.js";

export function certificateStep(deps: SagaDeps): Step {
  return {
    name: "cert.ready",
    intent: (state) => ({ hostnames: serviceHostnames(state.definition) }),
    async run(state) {
      const hostnames = serviceHostnames(state.definition);
      const broker = deps.peers.certBroker;
      if (!broker) {
        return {
          reports: hostnames.map((hostname) => ({
            step: "cert.ready",
            status: "skipped",
            subject: hostname,
            message: `no certificate for ${hostname}: no cert-broker is configured ([cert_broker] url)`,
            detail: { hostname, warning: "no cert-broker configured" },
          })),
        };
      }
      const publicNames = state.definition.components.flatMap((c) =>
        c.routes.flatMap((r) => (r.hostname ? [r.hostname] : [])),
      );
      const issued = await broker.issue(state.service, hostnames, [...new Set(publicNames)]);
      await writeTrustBundle(deps.caFile, () => broker.trustBundle());
      const reports: StepReport[] = [];
      deps.registry.transaction(() => {
        for (const hostname of hostnames) {
          const files = issued.files[hostname];
          if (!files) continue;
          deps.registry.bindings.putCertificate({
            service: state.service,
            hostname,
            serial: issued.serial,
            notAfter: issued.notAfter,
            // What a TLS server presents: the leaf with its intermediates.
            certFile: files.chainFile,
            keyFile: files.keyFile,
            caFile: deps.caFile,
            deployId: state.deploy.id,
          });
          reports.push({
            step: "cert.ready",
            status: issued.reused ? "skipped" : "done",
            subject: hostname,
            message: `${issued.reused ? "valid certificate" : "certificate"} ${issued.serial.slice(0, 12)}… for ${hostname}`,
            detail: { hostname, serial: issued.serial, notAfter: issued.notAfter.toISOString() },
          });
        }
      });
      return { payload: { serial: issued.serial }, reports };
    },
  };
}

// The root changes rarely: fetched once per agent process (and whenever the file is missing).
let bundleWritten: string | undefined;

async function writeTrustBundle(file: string, fetch: () => Promise<string>): Promise<void> {
  if (bundleWritten === file && existsSync(file)) return;
  writeAtomic(file, await fetch());
  bundleWritten = file;
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, text, { mode: 0o644 });
  renameSync(temp, file);
}
