import Table from "cli-table3";

/** Borderless, left-aligned columns (as `podman ps` prints them), headed by `head`. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: {
      top: "",
      "top-mid": "",
      "top-left": "",
      "top-right": "",
      bottom: "",
      "bottom-mid": "",
      "bottom-left": "",
      "bottom-right": "",
      left: "",
      "left-mid": "",
      mid: "",
      "mid-mid": "",
      right: "",
      "right-mid": "",
      middle: "  ",
    },
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
  });
  t.push(...rows.map((row) => row.map(String)));
  return t
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

/** A timestamp for tables: "2026-11-22 00:53:48Z", or "-" when unset. */
export function when(date: Date | undefined): string {
  return date ? `${date.toISOString().slice(0, 19).replace("T", " ")}Z` : "-";
}
