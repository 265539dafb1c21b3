import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * An OAuth 2.0 client, for the client-credentials grant at `tokenUrl`.
 *
 * @example
 * oauthClientKind.validate({ tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'c', clientSecret: 's' });
 */
export const oauthClientKind = defineKind({
  id: 'oauth-client',
  displayName: 'OAuth client',
  description: 'OAuth 2.0 client credentials and the token endpoint they are exchanged at.',
  source: 'builtin',
  rotateEveryDays: 180,
  // A shield with a tick.
  logo: tileLogo(
    '#0e7490',
    '<path d="M32 10l18 7v13c0 12-8 20-18 24-10-4-18-12-18-24V17z" fill="#fff"/>' +
      '<path d="M24 32l6 6 11-12" fill="none" stroke="#0e7490" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/>',
  ),
  fields: {
    tokenUrl: field.string({
      label: 'Token URL',
      placeholder: 'https://auth.example.com/oauth/token',
      format: 'url',
      maxLength: 2048,
    }),
    clientId: field.string({ label: 'Client ID' }),
    clientSecret: field.secret({ label: 'Client secret' }),
    scopes: field.string({
      label: 'Scopes',
      help: 'Separated by spaces.',
      placeholder: 'read write',
      required: false,
    }),
    audience: field.string({
      label: 'Audience',
      help: 'The API the tokens are for, when the provider asks for one.',
      required: false,
    }),
  },
});
