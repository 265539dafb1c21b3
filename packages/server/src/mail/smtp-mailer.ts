import type { Mailer, MailMessage, SmtpSettings } from '@coffer/core';

/** How {@link smtpMailer} talks to SMTP servers. */
export interface SmtpMailerOptions {
  /** Limit of each step (connect, greeting, each command), in milliseconds; default 30 s. */
  timeoutMs?: number;
}

/**
 * Coffer's mail transport (nodemailer), for the expiry and rotation reminders: it sends each
 * message through the SMTP server an `smtp` secret describes, with that secret's security
 * (`tls` from the start, `starttls` required, `none` in the clear) and login. One connection
 * per message; reminders are few. nodemailer is loaded with the first message, not at start.
 *
 * @example
 * const coffer = await createCoffer(config, { mailer: smtpMailer() });
 */
export function smtpMailer(options: SmtpMailerOptions = {}): Mailer {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    async send(smtp: SmtpSettings, message: MailMessage): Promise<void> {
      const { createTransport } = await import('nodemailer');
      const transport = createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.security === 'tls',
        requireTLS: smtp.security === 'starttls',
        ignoreTLS: smtp.security === 'none',
        ...(smtp.username === undefined || smtp.username === ''
          ? {}
          : { auth: { user: smtp.username, pass: smtp.password ?? '' } }),
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        dnsTimeout: timeoutMs,
        logger: false,
        debug: false,
      });
      try {
        await transport.sendMail({
          from: message.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          // No tracking, no HTML: what the engine wrote is what is sent.
          disableFileAccess: true,
          disableUrlAccess: true,
        });
      } finally {
        transport.close();
      }
    },
  };
}
