import { smtpKind } from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { maxReasonLength, scrubSecrets } from './scrub.js';

describe('scrubSecrets', () => {
  const values = { host: 'mail.example.com', username: 'mailer', password: 'p@ss w0rd!' };

  it('removes the value in every form a server could echo it', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const text = [
      'raw p@ss w0rd!',
      `url ${encodeURIComponent('p@ss w0rd!')}`,
      `plain ${b64('\0mailer\0p@ss w0rd!')}`,
      `login ${b64('p@ss w0rd!')}`,
      `basic ${b64('mailer:p@ss w0rd!')}`,
    ].join('\n');
    const scrubbed = scrubSecrets(text, values, smtpKind);
    expect(scrubbed).not.toContain('p@ss');
    expect(scrubbed).not.toContain(b64('p@ss w0rd!').slice(0, 12));
    expect(scrubbed).not.toContain(b64('\0mailer\0p@ss w0rd!'));
    expect(scrubbed.match(/\[redacted\]/g)).toHaveLength(5);
    expect(scrubbed).not.toContain('\n');
  });

  it('keeps what is not secret, and shortens long reasons', () => {
    expect(scrubSecrets('cannot reach mail.example.com as mailer', values, smtpKind)).toBe(
      'cannot reach mail.example.com as mailer',
    );
    expect(scrubSecrets('x'.repeat(1000), values, smtpKind)).toHaveLength(maxReasonLength);
  });
});
