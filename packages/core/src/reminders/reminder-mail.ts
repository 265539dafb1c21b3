import type { SecretRow } from '../storage/schema.js';
import type { DueReason } from './reminder-schedule.js';
import type { MailMessage } from './reminder-types.js';

const dayMs = 86_400_000;

/** What a reminder mail is about; metadata only, so a mail can never carry a value. */
export interface ReminderMailInput {
  secret: Pick<SecretRow, 'id' | 'name' | 'kind' | 'rotate_every_days'>;
  kindName: string;
  due: DueReason;
  recipient: { name: string; email: string };
  from: string;
  now: Date;
  /** The web UI's address, for a link to the secret. */
  webUrl?: string | undefined;
}

/** `2026-12-31`, or `2026-12-31 18:00 UTC` when the time of day is not midnight. */
export function formatDueDate(iso: string): string {
  const [date, time] = iso.split('T') as [string, string | undefined];
  const hm = (time ?? '').slice(0, 5);
  return hm === '' || time?.startsWith('00:00:00.000') ? date : `${date} ${hm} UTC`;
}

function inDays(iso: string, now: Date): string {
  const days = Math.round((Date.parse(iso) - now.getTime()) / dayMs);
  if (days === 0) return 'today';
  if (days > 0) return days === 1 ? 'in 1 day' : `in ${days} days`;
  return days === -1 ? '1 day ago' : `${-days} days ago`;
}

/**
 * The reminder mail for one secret and one reason: plain text, naming the secret, its kind and
 * the due date, and saying what to do. Built from metadata only.
 *
 * @example
 * reminderMail({ secret, kindName: 'API token', due, recipient, from, now }).subject
 * // 'Coffer: "github-token" expires on 2026-12-31'
 */
export function reminderMail(input: ReminderMailInput): MailMessage {
  const { secret, due, now } = input;
  const date = formatDueDate(due.date);
  const when = inDays(due.date, now);
  const name = `"${secret.name}"`;
  let subject: string;
  let what: string;
  let todo: string;
  switch (due.reason) {
    case 'expiring':
      subject = `Coffer: ${name} expires on ${date}`;
      what = `expires on ${date} (${when}).`;
      todo = 'Renew the credentials before then, store the new values, and set the new expiry date:';
      break;
    case 'expired':
      subject = `Coffer: ${name} expired on ${date}`;
      what = `expired on ${date} (${when}).`;
      todo = 'Renew the credentials, store the new values, and set the new expiry date:';
      break;
    case 'rotation': {
      const tense = due.date <= now.toISOString() ? 'was' : 'is';
      subject = `Coffer: ${name} ${tense} due for rotation on ${date}`;
      what = `${tense} due for rotation on ${date} (${when}).`;
      todo = `Its values should change every ${secret.rotate_every_days ?? '?'} days. Store new values, which restarts the clock:`;
      break;
    }
  }
  const command =
    due.reason === 'rotation'
      ? `  coffer secret update ${secret.name} <field>=-`
      : `  coffer secret update ${secret.name} <field>=- --expires <new date>`;
  const lines = [
    `Hello ${input.recipient.name},`,
    '',
    `The secret ${name} (${input.kindName}) that you own in Coffer ${what}`,
    '',
    todo,
    '',
    command,
    ...(input.webUrl === undefined
      ? []
      : ['', `or open it in Coffer: ${input.webUrl.replace(/\/+$/, '')}/secrets/${secret.id}`]),
    '',
    'You get this mail once for this date. `coffer secret due` lists everything that is due.',
    '',
    '-- Coffer',
  ];
  return { from: input.from, to: input.recipient.email, subject, text: `${lines.join('\n')}\n` };
}
