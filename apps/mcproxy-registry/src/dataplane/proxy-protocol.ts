// PROXY protocol v2 header (haproxy's proxy-protocol.txt, section 2.2): tells an L4 backend the
// client's real address, since it sees only mc-proxy's.

import type { Socket } from "node:net";
import { isIPv4 } from "node:net";

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_PROXY = 0x21;
const TCP4 = 0x11;
const TCP6 = 0x21;

/** "::ffff:1.2.3.4" is an IPv4 client on a dual-stack listener. */
function plain(address: string): string {
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** 16 bytes of an IPv6 address; an IPv4 address becomes ::ffff:a.b.c.d. */
function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  if (isIPv4(address)) {
    out.writeUInt16BE(0xffff, 10);
    Buffer.from(address.split(".").map(Number)).copy(out, 12);
    return out;
  }
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill("0"), ...right];
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16) || 0, i * 2);
  });
  return out;
}

/** The header for a client connection; undefined when the addresses are unknown (a closed socket). */
export function proxyHeaderV2(client: Socket): Buffer | undefined {
  const src = client.remoteAddress && plain(client.remoteAddress);
  const dst = client.localAddress && plain(client.localAddress);
  if (!src || !dst || client.remotePort === undefined || client.localPort === undefined) return undefined;
  const v4 = isIPv4(src) && isIPv4(dst);
  const body = Buffer.alloc(v4 ? 12 : 36);
  if (v4) {
    Buffer.from(src.split(".").map(Number)).copy(body, 0);
    Buffer.from(dst.split(".").map(Number)).copy(body, 4);
    body.writeUInt16BE(client.remotePort, 8);
    body.writeUInt16BE(client.localPort, 10);
  } else {
    ipv6Bytes(src).copy(body, 0);
    ipv6Bytes(dst).copy(body, 16);
    body.writeUInt16BE(client.remotePort, 32);
    body.writeUInt16BE(client.localPort, 34);
  }
  const head = Buffer.alloc(4);
  head[0] = V2_PROXY;
  head[1] = v4 ? TCP4 : TCP6;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIGNATURE, head, body]);
}
