const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago" for recent times, the date otherwise. */
export function describeTime(iso: string, now = Date.now()): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return absolute.format(at);
}

/** A time, relative, with the exact time as its title and machine-readable value. */
export function Time({ value }: { value: string | null | undefined }) {
  if (value === null || value === undefined) return <span className="muted">never</span>;
  return (
    <time dateTime={value} title={absolute.format(Date.parse(value))}>
      {describeTime(value)}
    </time>
  );
}
