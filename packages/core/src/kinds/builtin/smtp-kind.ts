import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * An outgoing mail server. Shared with the `system` group, it is the one Coffer's own
 * mail (reminders, share links) goes through.
 *
 * @example
 * const smtp: KindValues<typeof smtpKind> = smtpKind.validate({ host: 'smtp.example.com', username: 'u', password: 'p' });
 * smtp.port; // 587
 */
export const smtpKind = defineKind({
  id: 'smtp',
  displayName: 'SMTP server',
  description: 'An outgoing mail server, used to send email.',
  source: 'builtin',
  // An envelope.
  logo: tileLogo(
    '#0284c7',
    '<rect x="12" y="18" width="40" height="28" rx="4" fill="#fff"/>' +
      '<path d="M14 21l18 14 18-14" fill="none" stroke="#0284c7" stroke-width="4" stroke-linejoin="round"/>',
  ),
  fields: {
    host: field.string({
      label: 'Host',
      help: 'Host name or IP address of the mail server.',
      placeholder: 'smtp.example.com',
      maxLength: 253,
    }),
    port: field.integer({ label: 'Port', default: 587, min: 1, max: 65535 }),
    security: field.enum(['starttls', 'tls', 'none'] as const, {
      label: 'Security',
      help: 'starttls upgrades a plain connection (usually port 587), tls is encrypted from the start (usually 465), none is unencrypted.',
      default: 'starttls',
    }),
    // Optional: internal relays often accept mail without logging in.
    username: field.string({ label: 'Username', maxLength: 320, required: false }),
    password: field.secret({ label: 'Password', required: false }),
    from: field.string({
      label: 'From address',
      help: 'The sender of messages that name none.',
      placeholder: 'noreply@example.com',
      format: 'email',
      required: false,
    }),
  },
});
