// The kernel's ephemeral port range: ports it hands out for outgoing connections and port 0
// binds. A lease inside it could collide with a connection made later, so leases avoid it.
import { readFileSync } from "node:fs";

export interface PortRange {
  min: number;
  max: number;
}

export const LOCAL_PORT_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range";

/** The range from /proc (undefined when the file is missing or unreadable: not Linux). */
export function readLocalPortRange(file = LOCAL_PORT_RANGE_FILE): PortRange | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const [min, max] = text.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min! > max!) return undefined;
  return { min: min!, max: max! };
}

export function formatRange(range: PortRange): string {
  return `${range.min}-${range.max}`;
}
