const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration such as "50ms", "5s", "1m30s" in milliseconds, or the reason it is not one.
 * Durations are strings with units so a file never leaves the unit to guesswork.
 */
export function parseDuration(value: string): number | string {
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < value.length) {
    const match = PART.exec(value);
    if (!match) return durationProblem(value);
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? 0);
  }
  if (value === "" || total <= 0) return durationProblem(value);
  return Math.round(total);
}

function durationProblem(value: string): string {
  return `expected a duration such as "500ms", "5s" or "1m30s", got ${JSON.stringify(value)}`;
}
