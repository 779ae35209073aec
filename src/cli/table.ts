// Column layout the way Go's text/tabwriter does it (with no flags): every column but the last is
// padded to its widest cell plus `padding`, and at least `minWidth`; the last column is not padded.
// Velero's describe uses padding 2 (minwidth 0); kubectl-style tables (`backup get`) use padding 3,
// minwidth 6. Lines carry no trailing blanks.

export interface TabOptions {
  padding: number;
  minWidth?: number;
}

export function tabulate(rows: readonly string[][], { padding, minWidth = 0 }: TabOptions): string[] {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(minWidth, ...rows.map((r) => (r[i] ?? "").length + padding)),
  );
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("")
      .trimEnd(),
  );
}
