// Checks a route spec before it reaches the store or the data plane; every problem names its field.
import { isIP } from "node:net";
import { isAbsolute, join, resolve, sep } from "node:path";
import { type Backend, RouteError, type RouteSpec } from "./types.js";

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const invalid = (message: string) => new RouteError("INVALID_ARGUMENT", message);

/** Parses "host:port" / "[v6]:port"; throws naming `field` when it is not one. */
export function parseBackendAddress(address: string, field: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || !(port >= 1 && port <= 65535)) {
    throw invalid(`${field}: "${address}" is not host:port (e.g. 127.0.0.1:10423 or [::1]:10423)`);
  }
  if (m[1] !== undefined && isIP(host) !== 6) throw invalid(`${field}: "${host}" is not an IPv6 address`);
  if (m[1] === undefined && isIP(host) === 0 && !HOSTNAME.test(host.toLowerCase())) {
    throw invalid(`${field}: "${host}" is neither an IP address nor a DNS name`);
  }
  return { host, port };
}

export function checkBackends(backends: readonly Backend[], field = "backends"): Backend[] {
  if (backends.length === 0) throw invalid(`${field}: at least one backend is required`);
  const seen = new Set<string>();
  return backends.map((b, i) => {
    parseBackendAddress(b.address, `${field}[${i}].address`);
    if (seen.has(b.address)) throw invalid(`${field}[${i}].address: "${b.address}" is listed twice`);
    seen.add(b.address);
    return { address: b.address, weight: b.weight > 0 ? b.weight : 1 };
  });
}

/**
 * Normalizes a spec (hostname lower case, weights ≥ 1) and checks it. An L7 route without a
 * certificate gets `<certDir>/<hostname>.pem` and `.key`, where cert-broker writes them.
 * `confineTo`, for routes that come over the API: the directories their certificate files must be
 * in. mc-proxy often runs as root, and an API client must not make it read /etc/shadow, or
 * /dev/zero until it runs out of memory. Bootstrap routes are the operator's own file: not confined.
 */
export function checkRouteSpec(spec: RouteSpec, certDir: string, confineTo?: readonly string[]): RouteSpec {
  const port = spec.listenerPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`listener_port: ${port} is not a port from 1 to 65535`);
  }
  const hostname = spec.hostname.trim().toLowerCase().replace(/\.$/, "");
  if (isIP(hostname) !== 0) {
    throw invalid(`hostname: "${spec.hostname}" is an IP address; TLS clients send DNS names only (SNI)`);
  }
  if (!HOSTNAME.test(hostname)) throw invalid(`hostname: "${spec.hostname}" is not a DNS name`);
  if (spec.mode !== "l4" && spec.mode !== "l7") throw invalid(`mode: must be l4 or l7`);
  const backends = checkBackends(spec.backends);
  let certificate = spec.certificate;
  if (spec.mode === "l4" && certificate && (certificate.certFile || certificate.keyFile)) {
    throw invalid("certificate: an L4 route passes TLS through and takes no certificate");
  }
  if (spec.mode === "l4") certificate = undefined;
  if (spec.mode === "l7") {
    const named = (file: string | undefined, field: string) =>
      file && confineTo ? confined(file, `certificate.${field}`, confineTo) : file;
    certificate = {
      certFile: named(certificate?.certFile, "cert_file") || join(certDir, `${hostname}.pem`),
      keyFile: named(certificate?.keyFile, "key_file") || join(certDir, `${hostname}.key`),
      serial: certificate?.serial ?? "",
    };
  }
  return { ...spec, hostname, backends, certificate };
}

/** `file` as an absolute path without `..`, if it is inside one of `dirs`; refused naming `field` if not. */
function confined(file: string, field: string, dirs: readonly string[]): string {
  if (!isAbsolute(file)) throw invalid(`${field}: "${file}" is not an absolute path`);
  const full = resolve(file);
  if (dirs.some((dir) => full.startsWith(resolve(dir) + sep))) return full;
  throw invalid(
    `${field}: "${file}" is outside the certificate directories (${dirs.join(", ")}); ` +
      "an operator can add its directory to [proxy] extra_cert_dirs",
  );
}
