// What is wrong with a certificate an L7 route is about to serve, said in words for the log: the
// route is still served (a renewal may be on its way), but clients will refuse it until fixed.
import type { X509Certificate } from "node:crypto";

export function certificateProblems(leaf: X509Certificate, hostname: string, now = Date.now()): string[] {
  const problems: string[] = [];
  const notAfter = Date.parse(leaf.validTo);
  const notBefore = Date.parse(leaf.validFrom);
  if (notAfter <= now) problems.push(`expired on ${new Date(notAfter).toISOString()}`);
  if (notBefore > now) problems.push(`not valid before ${new Date(notBefore).toISOString()}`);
  // checkHost follows RFC 6125: SANs first, wildcards in the left-most label only.
  if (leaf.checkHost(hostname) === undefined) {
    problems.push(`does not cover ${hostname} (its names: ${leaf.subjectAltName ?? leaf.subject})`);
  }
  return problems;
}
