// Small helpers shared by the benchmarks.

/**
 * Runs `fn(i)` n times (awaiting it when it returns a promise) and returns the rate.
 * Sync functions stay sync, so the raw baselines are not slowed by await.
 */
export function time(n, fn) {
  const start = process.hrtime.bigint();
  const first = fn(0);
  if (first && typeof first.then === 'function') {
    return (async () => {
      await first;
      for (let i = 1; i < n; i++) await fn(i);
      return result(n, start);
    })();
  }
  for (let i = 1; i < n; i++) fn(i);
  return result(n, start);
}

function result(n, start) {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { n, seconds, opsPerSecond: n / seconds };
}

/** Prints rows as an aligned text table. */
export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
