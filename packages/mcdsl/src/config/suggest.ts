/**
 * The known name closest to a misspelt one, when it is close enough to be the likely intent:
 * `prot` → `port`, `listen-addr` → `listen_addr`. Undefined when nothing is close, or when two
 * names are equally close.
 */
export function nearest(name: string, known: Iterable<string>): string | undefined {
  const wanted = normalize(name);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tied = false;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tied = false;
    } else if (distance === bestDistance && candidate !== best) {
      tied = true;
    }
  }
  // Two equally close names ("l5": "l4" or "l7"?) make a guess, not a hint.
  if (tied) return undefined;
  // One edit for short names, two for longer ones: beyond that a "suggestion" is noise.
  const allowed = wanted.length <= 3 ? 1 : 2;
  return bestDistance <= allowed ? best : undefined;
}

/** Case and `-`/`_` differences are the commonest slips; they count as no edit. */
function normalize(name: string): string {
  return name.toLowerCase().replaceAll("-", "_");
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}
