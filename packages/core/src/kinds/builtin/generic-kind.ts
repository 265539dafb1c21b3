import { defineKind } from '../define-kind.js';
import { tileLogo } from '../kind-logo.js';

/**
 * Free key/value pairs for anything without a kind of its own. Every value is secret.
 *
 * @example
 * genericKind.validate({ API_KEY: 'k-123', retries: 3 });
 */
export const genericKind = defineKind({
  id: 'generic',
  displayName: 'Generic secret',
  description: 'Free key/value pairs; every value is kept secret.',
  freeForm: true,
  source: 'builtin',
  // A key.
  logo: tileLogo(
    '#4f46e5',
    '<circle cx="22" cy="32" r="9" fill="none" stroke="#fff" stroke-width="6"/>' +
      '<path d="M31 32h21M45 32v8M51 32v6" stroke="#fff" stroke-width="6" stroke-linecap="round"/>',
  ),
});
