/** How a column's cells line up. */
export type Align = 'left' | 'right';

/** A column of {@link renderTable}. */
export interface Column {
  header: string;
  align?: Align;
}

/**
 * Renders rows as a fixed-width text table (header, dashed rule, rows), or as a GitHub Markdown
 * table when `markdown` is set, so the same rows go to stdout and into BENCHMARKS.md.
 */
export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>, markdown = false): string {
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const pad = (text: string, i: number) => {
    const width = widths[i]!;
    return columns[i]!.align === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]) =>
    markdown
      ? `| ${columns.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`
      : columns.map((_, i) => pad(cells[i] ?? '', i)).join('  ').trimEnd();
  const rule = markdown
    ? `|${columns.map((column, i) => (column.align === 'right' ? `${'-'.repeat(widths[i]! + 1)}:` : '-'.repeat(widths[i]! + 2))).join('|')}|`
    : widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(columns.map((column) => column.header)), rule, ...rows.map(line)].join('\n');
}

/**
 * Formats a number for a table: 3 significant digits for small values, thousands separators and
 * no decimals for large ones, `-` when absent or not finite.
 */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}
