// Field lines as the object an HTTP/2 HEADERS frame is built from (Node's http2 headers object).

/**
 * Names lower-cased, repeated fields joined with ", " (Set-Cookie kept as a list),
 * Transfer-Encoding left out (HTTP/2 frames bodies itself). `lines`: field lines, CRLF after each.
 */
export function fieldObject(lines: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const line of lines.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (name === "transfer-encoding") continue;
    const value = line.slice(colon + 1).trim();
    const prior = out[name];
    if (name === "set-cookie") out[name] = prior === undefined ? [value] : [...(prior as string[]), value];
    else out[name] = prior === undefined ? value : `${prior as string}, ${value}`;
  }
  return out;
}
