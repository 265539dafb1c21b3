import type { Kind, SecretValues } from '@coffer/core';

const redacted = '[redacted]';
/** Secret values shorter than this are too common to scrub from text without mangling it. */
const minScrubLength = 3;
/** Failure reasons are short; a long one is more likely to carry something it should not. */
export const maxReasonLength = 300;

/**
 * Every form in which a secret value could come back inside an error message: as is, URL- and
 * JSON-encoded, and base64-encoded alone or inside the credentials of SMTP AUTH PLAIN/LOGIN
 * and HTTP basic authentication (servers echo those).
 */
function secretForms(values: SecretValues, kind: Pick<Kind, 'isSecretField'>): string[] {
  const secrets = Object.entries(values)
    .filter(([name, value]) => kind.isSecretField(name) && String(value).length >= minScrubLength)
    .map(([, value]) => String(value));
  const others = Object.entries(values)
    .filter(([name]) => !kind.isSecretField(name))
    .map(([, value]) => String(value));
  const forms = new Set<string>();
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  for (const secret of secrets) {
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(b64(secret));
    forms.add(b64(secret).replace(/=+$/, ''));
    forms.add(Buffer.from(secret).toString('base64url'));
    for (const user of others) {
      forms.add(b64(`\0${user}\0${secret}`));
      forms.add(b64(`${user}\0${user}\0${secret}`));
      forms.add(b64(`${user}:${secret}`));
      forms.add(b64(`${encodeURIComponent(user)}:${encodeURIComponent(secret)}`));
    }
  }
  forms.delete('');
  // Longest first, so a value inside a longer encoded form does not break the longer match.
  return [...forms].filter((f) => f.length >= minScrubLength).sort((a, b) => b.length - a.length);
}

/**
 * Removes every secret value of a secret (in every form listed above) from a text meant
 * for the caller, and shortens it. A connection test's failure reason goes through this,
 * because server messages sometimes echo what they were sent.
 *
 * @example
 * scrubSecrets('535 bad password hunter2', { password: 'hunter2' }, smtpKind); // '535 bad password [redacted]'
 */
export function scrubSecrets(text: string, values: SecretValues, kind: Pick<Kind, 'isSecretField'>): string {
  let out = text;
  for (const form of secretForms(values, kind)) out = out.split(form).join(redacted);
  // Collapse control characters (multi-line server replies) into spaces.
  out = collapseControlCharacters(out).trim();
  return out.length > maxReasonLength ? `${out.slice(0, maxReasonLength - 1)}…` : out;
}

function collapseControlCharacters(text: string): string {
  let out = '';
  let inRun = false;
  for (const char of text) {
    const code = char.charCodeAt(0);
    const control = code < 0x20 || code === 0x7f;
    if (control && !inRun) out += ' ';
    else if (!control) out += char;
    inRun = control;
  }
  return out;
}
