/** Plain-text helpers for the human-readable CLI output (no colours: output is often piped). */

export type Align = 'left' | 'right';

export interface Column<Row> {
  header: string;
  align: Align;
  value: (row: Row) => string;
}

/** Renders rows as space-separated, aligned columns under a header and a rule. */
export function formatTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  indent = '  ',
): string[] {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => line[index].length)),
  );
  const render = (line: readonly string[]) =>
    indent +
    line
      .map((cell, index) =>
        columns[index].align === 'right' ? cell.padStart(widths[index]) : cell.padEnd(widths[index]),
      )
      .join('  ')
      .trimEnd();
  return [
    render(columns.map((column) => column.header)),
    render(widths.map((width) => '-'.repeat(width))),
    ...cells.map(render),
  ];
}

/** 1234567 → '1,234,567'. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Bytes in binary units with one decimal: 4718592 → '4.5 MiB'. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `[1, 3, 'h', '?']` → '[1, 3, h, ?]'. */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}
