import { accessLevels, maxReminderDays, reminderReasons } from '@coffer/core';
import { z } from 'zod';
import { pageQueryShape } from './common-schemas.js';

const within = `a number of days: 30d or 30, from 0 to ${maxReminderDays}`;

/** `?within=30d`: days ahead, written `<n>d` or `<n>`. */
export const withinQuery = z
  .string()
  .regex(/^\d{1,4}d?$/i, `must be ${within}`)
  .transform((text) => Number.parseInt(text, 10))
  .refine((days) => days <= maxReminderDays, `must be ${within}`);

export const dueSecretSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    description: z.string(),
    ownerId: z.string(),
    expiresAt: z.string().nullable().describe('When its credentials expire'),
    rotateEveryDays: z.number().int().nullable().describe('Its rotation interval in days'),
    rotationDueAt: z.string().nullable().describe('The last values change plus the interval'),
    dueAt: z.string().describe('The earliest date among its reasons; the list is sorted by it'),
    reasons: z
      .array(z.enum(reminderReasons))
      .describe('`expired`, `expiring` (within the window), `rotation` (due within the window, or overdue)'),
    access: z.object({
      level: z.enum(accessLevels).nullable(),
      basis: z.enum(['admin', 'owner', 'share', 'none']),
    }),
  })
  .meta({
    id: 'DueSecret',
    description: 'A secret that expired, expires or is due for rotation; never its values.',
  });

export const dueQuery = z.strictObject({
  ...pageQueryShape,
  within: withinQuery
    .optional()
    .describe("Days ahead, e.g. `30d` (default: the server's `reminders.withinDays`, 30)"),
  reason: z.enum(reminderReasons).optional().describe('Only secrets due for this reason'),
  view: z
    .enum(['accessible', 'mine'])
    .optional()
    .describe('`mine`: only what you own or was shared with you'),
});

export const reminderRunSchema = z
  .object({
    due: z.number().int().describe('Reminders due and not sent before (one per secret, reason and due date)'),
    sent: z.number().int(),
    claimedElsewhere: z.number().int().describe('Sent by another server on the database'),
    noRecipient: z.number().int().describe('Owners without an email address (or disabled): not sent'),
    failed: z.number().int().describe('Mails that failed; tried again on the next run'),
    warning: z.string().optional().describe('Why nothing could be sent, e.g. no usable SMTP secret'),
  })
  .meta({ id: 'ReminderRun', description: 'What one run of the reminder job did.' });
