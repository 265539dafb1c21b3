import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A mail as the SMTP server received it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** The whole message as sent (headers and encoded body). */
  raw: string;
  subject: string;
  /** The body, quoted-printable decoded. */
  text: string;
  /** The login the client used, if any. */
  user: string | undefined;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 that keeps what it receives. */
export interface SmtpSink {
  host: string;
  port: number;
  mails: ReceivedMail[];
  /** While true, every MAIL FROM is refused with a temporary error (451). */
  failing: boolean;
  /** The values of an `smtp` secret that sends here (plain SMTP with a login). */
  secretValues(password: string): Record<string, string | number>;
  close(): Promise<void>;
}

/**
 * Starts an SMTP server in the test process: plain SMTP (no STARTTLS), any login accepted,
 * every message kept in `mails`.
 *
 * @example
 * const sink = await startSmtpSink();
 * await coffer.secrets.create(admin, { name: 'system-smtp', kind: 'smtp', values: sink.secretValues('pw') });
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const sink: SmtpSink = {
    host: '127.0.0.1',
    port: 0,
    mails: [],
    failing: false,
    secretValues: (password) => ({
      host: '127.0.0.1',
      port: sink.port,
      security: 'none',
      username: 'mailer',
      password,
      from: 'coffer@example.com',
    }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username });
    },
    onMailFrom(_address, _session, callback) {
      if (sink.failing) {
        const err = new Error('try again later') as Error & { responseCode: number };
        err.responseCode = 451;
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const [head = '', ...body] = raw.split(/\r?\n\r?\n/);
        const subject = decodeHeader(/^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1] ?? '');
        sink.mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
          text: decodeQuotedPrintable(body.join('\n\n')),
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  sink.port = (server.server.address() as AddressInfo).port;
  return sink;
}

function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\r\n/g, '\n');
}

/** Unfolds a header and decodes its `=?UTF-8?Q?...?=` words, as a mail client shows it. */
function decodeHeader(value: string): string {
  return value
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, encoding: string, word: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(word, 'base64').toString('utf8')
        : Buffer.from(decodeQuotedPrintable(word.replace(/_/g, ' ')), 'latin1').toString('utf8'),
    );
}
