import type { FieldIssue } from '../errors/coffer-error.js';
import type { SecretRow } from '../storage/schema.js';
import type { ReminderReason } from './reminder-types.js';

const dayMs = 86_400_000;

/** The longest rotation interval and look-ahead window, in days (ten years). */
export const maxReminderDays = 3650;

/** The columns a secret's expiry and rotation settings keep on its row. */
export type ReminderColumns = Pick<
  SecretRow,
  'expires_at' | 'rotate_every_days' | 'rotation_due_at' | 'due_at'
>;

/**
 * The row columns for an expiry, a rotation interval and the time the values last changed:
 * `rotation_due_at` is that time plus the interval, `due_at` the earlier of it and the expiry.
 *
 * @example
 * reminderColumns({ expiresAt: null, rotateEveryDays: 90, valuesChangedAt: '2026-01-01T00:00:00.000Z' })
 * // { expires_at: null, rotate_every_days: 90, rotation_due_at: '2026-04-01T00:00:00.000Z', due_at: '2026-04-01T00:00:00.000Z' }
 */
export function reminderColumns(input: {
  expiresAt: string | null;
  rotateEveryDays: number | null;
  valuesChangedAt: string;
}): ReminderColumns {
  const rotationDueAt =
    input.rotateEveryDays === null
      ? null
      : new Date(Date.parse(input.valuesChangedAt) + input.rotateEveryDays * dayMs).toISOString();
  const dates = [input.expiresAt, rotationDueAt].filter((d): d is string => d !== null).sort();
  return {
    expires_at: input.expiresAt,
    rotate_every_days: input.rotateEveryDays,
    rotation_due_at: rotationDueAt,
    due_at: dates[0] ?? null,
  };
}

/** The same settings after the values changed at `now`: the rotation clock starts again. */
export function afterValuesChange(row: ReminderColumns, now: string): ReminderColumns {
  return reminderColumns({
    expiresAt: row.expires_at,
    rotateEveryDays: row.rotate_every_days,
    valuesChangedAt: now,
  });
}

/**
 * Reads an expiry as given by a caller: an ISO-8601 date (`2026-12-31`, meaning the start of that
 * day in UTC) or date and time with `Z` or an offset, or null for none. Returns the stored form
 * (`Date#toISOString()`) or the issue.
 */
export function parseExpiresAt(
  value: unknown,
  path = 'expiresAt',
): { ok: true; value: string | null } | { ok: false; issue: FieldIssue } {
  if (value === null) return { ok: true, value: null };
  const invalid = {
    ok: false as const,
    issue: {
      path,
      message:
        'must be an ISO-8601 date (2026-12-31) or date and time with a zone (2026-12-31T18:00:00Z), or null',
    },
  };
  if (typeof value !== 'string' || value.length > 40) return invalid;
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const dateTime =
    /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i.exec(value);
  const parts = dateOnly ?? dateTime;
  if (parts === null) return invalid;
  // Date.parse would roll 2026-02-30 over into March: the calendar day must exist as written.
  const [year, month, day] = parts.slice(1, 4).map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() + 1 !== month || calendar.getUTCDate() !== day) return invalid;
  const time = Date.parse(dateOnly === null ? value : `${value}T00:00:00.000Z`);
  if (!Number.isFinite(time)) return invalid;
  const stored = new Date(time);
  if (stored.getUTCFullYear() < 1970 || stored.getUTCFullYear() > 9999) {
    return { ok: false, issue: { path, message: 'must be a year from 1970 to 9999' } };
  }
  return { ok: true, value: stored.toISOString() };
}

/** Why a rotation interval is not acceptable (a whole number of days, 1 to 3650, or null). */
export function rotateEveryIssues(value: unknown, path = 'rotateEveryDays'): FieldIssue[] {
  if (value === null) return [];
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= maxReminderDays
    ? []
    : [{ path, message: `must be a whole number of days from 1 to ${maxReminderDays}, or null` }];
}

/** Why a look-ahead window is not acceptable (a whole number of days, 0 to 3650). */
export function withinDaysIssues(value: unknown, path = 'withinDays'): FieldIssue[] {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= maxReminderDays
    ? []
    : [{ path, message: `must be a whole number of days from 0 to ${maxReminderDays}` }];
}

/** One reason a secret is due, the date it is about, and the period a reminder about it belongs to. */
export interface DueReason {
  reason: ReminderReason;
  /** The expiry or rotation due date. */
  date: string;
  /**
   * What makes a reminder "the same one": the due date itself. A new expiry date or new values
   * (a new rotation due date) start a new period, and so a new reminder.
   */
  periodKey: string;
}

/**
 * Why a secret is due at `now`, looking `withinDays` ahead: expired (expiry passed), expiring
 * (expiry within the window), rotation (rotation due within the window, or overdue).
 *
 * @example
 * dueReasons(row, new Date(), 30) // [{ reason: 'rotation', date: '2026-04-01T00:00:00.000Z', periodKey: '2026-04-01T00:00:00.000Z' }]
 */
export function dueReasons(row: ReminderColumns, now: Date, withinDays: number): DueReason[] {
  const nowIso = now.toISOString();
  const horizon = horizonOf(now, withinDays);
  const reasons: DueReason[] = [];
  if (row.expires_at !== null) {
    if (row.expires_at <= nowIso)
      reasons.push({ reason: 'expired', date: row.expires_at, periodKey: row.expires_at });
    else if (row.expires_at <= horizon)
      reasons.push({ reason: 'expiring', date: row.expires_at, periodKey: row.expires_at });
  }
  if (row.rotation_due_at !== null && row.rotation_due_at <= horizon) {
    reasons.push({ reason: 'rotation', date: row.rotation_due_at, periodKey: row.rotation_due_at });
  }
  return reasons;
}

/** `now` plus a window of days, as stored (ISO-8601 UTC). */
export function horizonOf(now: Date, withinDays: number): string {
  return new Date(now.getTime() + withinDays * dayMs).toISOString();
}
