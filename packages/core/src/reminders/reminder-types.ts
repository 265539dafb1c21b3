import type { AccessLevel } from '../access/access-level.js';
import type { AccessBasis } from '../access/access-policy.js';
import type { PageRequest } from '../shared/page.js';

/**
 * Why a secret is due:
 * - `expired`: its expiry date has passed;
 * - `expiring`: it expires within the window asked about;
 * - `rotation`: its values are due for rotation (last change + interval) within the window, or
 *   were due already.
 */
export const reminderReasons = ['expired', 'expiring', 'rotation'] as const;

export type ReminderReason = (typeof reminderReasons)[number];

/** A secret that is due: when, and why. Metadata only, never values. */
export interface DueSecret {
  id: string;
  name: string;
  kind: string;
  description: string;
  ownerId: string;
  /** When the secret's credentials expire, or null. */
  expiresAt: string | null;
  /** The rotation interval in days, or null. */
  rotateEveryDays: number | null;
  /** When the values are due for rotation (last values change + interval), or null. */
  rotationDueAt: string | null;
  /** The earliest date among the reasons: what the list is sorted by. */
  dueAt: string;
  /** Why it is listed, in the order of {@link reminderReasons}. */
  reasons: ReminderReason[];
  /** The caller's level on the secret, and why it holds it. */
  access: { level: AccessLevel | null; basis: AccessBasis };
}

/** What {@link ReminderService.dueSecrets} lists. */
export interface DueSecretsQuery extends PageRequest {
  /**
   * The window in days from now (0 to 3650): what expires or is due for rotation before
   * now + this, and everything already expired or overdue. Default: `reminders.withinDays` (30).
   */
  withinDays?: number;
  /** Only secrets due for this reason. */
  reason?: ReminderReason;
  /** `accessible` (default; for admins every secret) or `mine` (owned or shared directly to me). */
  view?: 'accessible' | 'mine';
}

/** How many live secrets are due, by reason (a secret may count under two reasons). */
export type DueCounts = Record<ReminderReason, number>;

/** What one run of the reminder job did. */
export interface ReminderRunResult {
  /** Reminders that were due and not yet sent (one per secret, reason and period). */
  due: number;
  /** Mails sent by this run. */
  sent: number;
  /** Reminders another engine had claimed (it sends them). */
  claimedElsewhere: number;
  /** Reminders whose owner has no email address (or is disabled): not sent, tried again next run. */
  noRecipient: number;
  /** Mails that failed; their claims were released, so the next run tries again. */
  failed: number;
  /** Why nothing could be sent (no mail transport, no usable SMTP secret), when that was so. */
  warning?: string;
}

/** A message the reminder job hands to the mail transport. Never holds a secret value. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/**
 * The SMTP server a mail goes through: the values of an `smtp` secret, which the reminder job
 * takes with `use` as the `system` group.
 */
export interface SmtpSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  username?: string;
  password?: string;
  from?: string;
}

/**
 * Sends mail. Core speaks no SMTP itself: `@coffer/server` passes `smtpMailer()` (nodemailer),
 * and an embedding application passes that or its own.
 *
 * @example
 * const mailer: Mailer = { async send(smtp, message) { await myTransport(smtp).sendMail(message); } };
 * await createCoffer(config, { mailer });
 */
export interface Mailer {
  /** Sends one message through the SMTP server `smtp` describes; rejects when it was not accepted. */
  send(smtp: SmtpSettings, message: MailMessage): Promise<void>;
}
