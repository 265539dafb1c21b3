import type { DueSecret, SecretMetadata } from '../api/types';

const dayMs = 86_400_000;
/** How far ahead a list badge warns: the server's default window. */
const soonDays = 30;

/**
 * "today", "in 3 days", "2 days ago": calendar days (UTC, as dueDate shows a date), so an expiry
 * on the 16th is "in 10 days" all day on the 6th, not "in 9 days" from noon on.
 */
export function daysFrom(iso: string, now = Date.now()): string {
  const days = Math.floor(Date.parse(iso) / dayMs) - Math.floor(now / dayMs);
  if (days === 0) return 'today';
  if (days > 0) return days === 1 ? 'in 1 day' : `in ${days} days`;
  return days === -1 ? '1 day ago' : `${-days} days ago`;
}

/** A due date as people read it: the day, and the time when it is not midnight UTC. */
export function dueDate(iso: string): string {
  const at = new Date(iso);
  const midnight = iso.slice(11, 23) === '00:00:00.000';
  return midnight
    ? new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(at)
    : new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

type Dates = Pick<SecretMetadata | DueSecret, 'expiresAt' | 'rotationDueAt'>;

/** What is due about a secret now, looking `soonDays` ahead: each with its words and style. */
export function dueNotes(secret: Dates, now = Date.now()): { text: string; tone: 'expired' | 'due' }[] {
  const notes: { text: string; tone: 'expired' | 'due' }[] = [];
  const horizon = now + soonDays * dayMs;
  if (secret.expiresAt !== null) {
    const at = Date.parse(secret.expiresAt);
    if (at <= now) notes.push({ text: 'expired', tone: 'expired' });
    else if (at <= horizon) notes.push({ text: `expires ${daysFrom(secret.expiresAt, now)}`, tone: 'due' });
  }
  if (secret.rotationDueAt !== null && Date.parse(secret.rotationDueAt) <= horizon) {
    const overdue = Date.parse(secret.rotationDueAt) <= now;
    notes.push({ text: overdue ? 'rotation overdue' : 'rotation due', tone: overdue ? 'expired' : 'due' });
  }
  return notes;
}

/** Badges for a secret that expired, expires soon or is due for rotation; nothing otherwise. */
export function DueBadges({ secret }: { secret: Dates }) {
  const notes = dueNotes(secret);
  if (notes.length === 0) return null;
  return (
    <>
      {notes.map((n) => (
        <span key={n.text} className={n.tone === 'expired' ? 'badge badge-expired' : 'badge badge-due'}>
          {n.text}
        </span>
      ))}
    </>
  );
}
