// Names a service's certificate no longer has. When a new certificate supersedes one and drops a
// name (the definition no longer has it), that name's published files still held the superseded
// certificate, which nothing renews: they served it until it expired. The agent removes the route
// and the mounts of such a name; a container that mounted the files keeps its copy until it is
// recreated.
import type { Logger } from "@mcp/mcdsl/log";
import type { CertFiles } from "../store/cert-files.js";
import type { CertificateRecord, CertificateStore } from "../store/certificates.js";

/**
 * Removes the files of names these superseded certificates had and no current certificate has,
 * where the files still hold the superseded certificate. Returns how many names; a file that cannot
 * be removed is logged, and the next start tries again.
 */
export function unpublishDropped(
  deps: { store: CertificateStore; files: CertFiles; logger: Logger },
  superseded: CertificateRecord[],
): number {
  const { store, files, logger } = deps;
  const names = [...new Set(superseded.flatMap((c) => c.hostnames))];
  if (names.length === 0) return 0;
  const covered = new Set(store.currentFor(names).flatMap((c) => c.hostnames));
  let dropped = 0;
  for (const cert of superseded) {
    for (const hostname of cert.hostnames) {
      if (covered.has(hostname)) continue;
      try {
        if (files.unpublish(hostname, cert, undefined) > 0) {
          dropped++;
          logger.info(
            { hostname, serial: cert.serial },
            "removed the files of a name no certificate has now",
          );
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        logger.error({ err, hostname }, `could not remove a dropped name's files: ${reason}`);
      }
    }
  }
  return dropped;
}
