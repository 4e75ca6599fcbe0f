// Reads a file other users can reach (cert_dir is shared with mc-proxy and mounted into containers)
// without trusting what is there: a FIFO would block the event loop in the read, a link to /dev/zero
// would be read until memory ran out, and a link elsewhere is not the broker's file. Opened
// non-blocking without following a link, and checked on the open handle.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** More than any PEM certificate chain or key the broker writes. */
const MAX_BYTES = 1 << 20;

/** The file's text when it is a regular file of at most 1 MiB; undefined otherwise (or when absent). */
export function readRegularFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch {
    return undefined; // absent, a symlink (ELOOP), or unreadable: not a file the broker wrote
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_BYTES) return undefined;
    const data = Buffer.alloc(stat.size);
    let length = 0;
    for (let n = -1; n !== 0 && length < data.length; length += n) {
      n = readSync(fd, data, length, data.length - length, null);
    }
    return data.subarray(0, length).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
