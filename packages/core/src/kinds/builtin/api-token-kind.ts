import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * A token for an HTTP API, sent as `<headerName>: <scheme> <token>`. Clearing `scheme`
 * (an empty string) sends the bare token, as APIs with an `X-API-Key` header expect.
 *
 * @example
 * const t = apiTokenKind.validate({ token: 't' });
 * `${t.headerName}: ${t.scheme} ${t.token}`; // 'Authorization: Bearer t'
 */
export const apiTokenKind = defineKind({
  id: 'api-token',
  displayName: 'API token',
  description: 'A token for an HTTP API, sent in a request header.',
  source: 'builtin',
  rotateEveryDays: 90,
  // A token with angle brackets.
  logo: tileLogo(
    '#6d28d9',
    '<circle cx="32" cy="32" r="19" fill="#fff"/>' +
      '<path d="M28 24l-7 8 7 8M36 24l7 8-7 8" fill="none" stroke="#6d28d9" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/>',
  ),
  fields: {
    baseUrl: field.string({
      label: 'Base URL',
      placeholder: 'https://api.example.com',
      format: 'url',
      maxLength: 2048,
      required: false,
    }),
    token: field.secret({ label: 'Token' }),
    headerName: field.string({
      label: 'Header name',
      default: 'Authorization',
      pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
      maxLength: 256,
    }),
    scheme: field.string({
      label: 'Scheme',
      help: 'Written before the token, e.g. Bearer or Token; empty to send the token alone.',
      default: 'Bearer',
      maxLength: 64,
    }),
  },
});
