import { isIPv4, isIPv6 } from "node:net";
import type { PortMapping } from "./types.js";

/**
 * The legacy `ports` form, as podman's -p takes it: `[[ip:][hostPort]:]containerPort[/protocol]`
 * (`127.0.0.1:28443:8443`, `8080:80`, `[::1]:53:53/udp`); or the reason it is not one.
 */
export function parsePortMapping(spec: string): PortMapping | string {
  const got = `got ${JSON.stringify(spec)}`;
  const usage = `expected [ip:][host port:]container port[/tcp|udp|sctp] such as "127.0.0.1:28443:8443", ${got}`;
  const [address = "", protocol = "tcp", ...extra] = spec.split("/");
  if (extra.length > 0 || !["tcp", "udp", "sctp"].includes(protocol)) return usage;
  if (/\d-\d/.test(address)) return `port ranges are not supported, ${got}`;

  let hostIp: string | undefined;
  let rest = address;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(address);
  if (bracketed) {
    hostIp = bracketed[1];
    rest = bracketed[2] ?? "";
    if (!isIPv6(hostIp ?? "")) return `${JSON.stringify(hostIp)} is not an IPv6 address, ${got}`;
  }
  const parts = rest.split(":");
  if (!bracketed && parts.length === 3) {
    hostIp = parts.shift();
    if (!isIPv4(hostIp ?? "")) return `${JSON.stringify(hostIp)} is not an IPv4 address, ${got}`;
  }
  if (parts.length > 2 || (bracketed && parts.length !== 2)) return usage;
  const [hostText, containerText] = parts.length === 2 ? parts : [undefined, parts[0]];
  const containerPort = portNumber(containerText);
  if (containerPort === undefined) return usage;
  let hostPort: number | undefined;
  if (hostText) {
    hostPort = portNumber(hostText);
    if (hostPort === undefined) return usage;
  }
  return {
    spec,
    ...(hostIp === undefined ? {} : { hostIp }),
    ...(hostPort === undefined ? {} : { hostPort }),
    containerPort,
    protocol: protocol as PortMapping["protocol"],
  };
}

/** 1–65535, or undefined. */
function portNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}
