/**
 * Reading the raw parsed TOML before (or despite) validation: cross-field checks must still run
 * when another field is wrong, so they look only at values of the type they expect.
 */
export type Table = Record<string, unknown>;

export function table(value: unknown): Table | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
    ? (value as Table)
    : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function int(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}
