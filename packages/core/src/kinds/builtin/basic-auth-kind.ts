import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * A username and password, e.g. for HTTP basic authentication.
 *
 * @example
 * basicAuthKind.validate({ username: 'admin', password: 'p' });
 */
export const basicAuthKind = defineKind({
  id: 'basic-auth',
  displayName: 'Username and password',
  description: 'A username and password, e.g. for HTTP basic authentication.',
  source: 'builtin',
  // A padlock.
  logo: tileLogo(
    '#b91c1c',
    '<path d="M22 29v-7a10 10 0 0 1 20 0v7" fill="none" stroke="#fff" stroke-width="5"/>' +
      '<rect x="16" y="28" width="32" height="22" rx="4" fill="#fff"/>' +
      '<circle cx="32" cy="37" r="3" fill="#b91c1c"/>' +
      '<path d="M32 39v5" stroke="#b91c1c" stroke-width="3" stroke-linecap="round"/>',
  ),
  fields: {
    url: field.string({
      label: 'URL',
      placeholder: 'https://intranet.example.com',
      format: 'url',
      maxLength: 2048,
      required: false,
    }),
    username: field.string({ label: 'Username' }),
    password: field.secret({ label: 'Password' }),
  },
});
