/** One column of a table: its header and how to show a row's cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => unknown;
}

/** A cell as text: dates and nulls shortened, control characters made visible. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cellText).join(', ');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
  }
  const text = String(value);
  // A value may hold newlines or escapes; one row stays one line and cannot drive the terminal.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '↵' : '�'));
}

/** Formats rows as an aligned text table with a header line. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.cell(row))));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => [...(r[i] ?? '')].length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + ' '.repeat(widths[i]! - [...v].length)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Formats `label: value` lines, labels aligned. */
export function formatFields(fields: readonly [string, unknown][]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cellText(v)}`).join('\n');
}
