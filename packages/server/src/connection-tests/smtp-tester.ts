import {
  type ConnectionTester,
  type ConnectionTestOutcome,
  describeError,
  numberField,
  stringField,
} from './connection-tester.js';

/**
 * SMTP: connects (TLS from the start for `security: tls`), upgrades with STARTTLS when the
 * server offers it (unless `security: none`), logs in when a username is set, and quits.
 * Nothing is sent. nodemailer's SMTP client is loaded with the first test, not at start.
 */
export const smtpTester: ConnectionTester = {
  kind: 'smtp',
  async test(values, { timeoutMs, signal }) {
    const host = stringField(values, 'host');
    if (host === undefined) return { ok: false, reason: 'the secret has no host' };
    const security = stringField(values, 'security') ?? 'starttls';
    const username = stringField(values, 'username');
    const { default: SMTPConnection } = await import('nodemailer/lib/smtp-connection');
    const connection = new SMTPConnection({
      host,
      port: numberField(values, 'port') ?? (security === 'tls' ? 465 : 587),
      secure: security === 'tls',
      ignoreTLS: security === 'none',
      opportunisticTLS: false,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      socketCloseTimeout: 0,
      logger: false,
      debug: false,
      transactionLog: false,
    });
    const abort = () => connection.close();
    signal.addEventListener('abort', abort, { once: true });
    try {
      return await new Promise<ConnectionTestOutcome>((resolve) => {
        let settled = false;
        const finish = (outcome: ConnectionTestOutcome) => {
          if (settled) return;
          settled = true;
          resolve(outcome);
        };
        connection.once('error', (err: Error) => finish({ ok: false, reason: smtpReason(err) }));
        connection.once('end', () => finish({ ok: false, reason: 'the server closed the connection' }));
        connection.connect(() => {
          const tls = connection.secure;
          if (username === undefined) {
            finish({ ok: true, details: { tls, authenticated: false } });
            return;
          }
          if (!connection.allowsAuth) {
            finish({ ok: false, reason: 'the server offers no authentication (AUTH) on this connection' });
            return;
          }
          connection.login({ user: username, pass: stringField(values, 'password') ?? '' }, (err) => {
            if (err) finish({ ok: false, reason: smtpReason(err) });
            else finish({ ok: true, details: { tls, authenticated: true } });
          });
        });
      });
    } finally {
      signal.removeEventListener('abort', abort);
      try {
        connection.quit();
      } catch {
        // Already closed.
      }
      connection.close();
    }
  },
};

function smtpReason(err: Error): string {
  const e = err as Error & { code?: string; response?: string };
  switch (e.code) {
    case 'EAUTH':
      return `authentication failed: ${e.response ?? e.message}`;
    case 'ENOAUTH':
      return 'no credentials to log in with';
    case 'ETLS':
      return `TLS failed: ${e.message}`;
    case 'ETIMEDOUT':
      return 'the server did not answer in time';
    case 'EDNS':
      return `the host name did not resolve: ${e.message}`;
    default:
      return `could not talk to the server: ${describeError(err)}`;
  }
}
