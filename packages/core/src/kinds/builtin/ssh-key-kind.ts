import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * An SSH private key and the account it logs in to.
 *
 * @example
 * sshKeyKind.validate({ username: 'deploy', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n...' }).port; // 22
 */
export const sshKeyKind = defineKind({
  id: 'ssh-key',
  displayName: 'SSH key',
  description: 'An SSH private key and the account it logs in to.',
  source: 'builtin',
  rotateEveryDays: 365,
  // A terminal prompt.
  logo: tileLogo(
    '#1e293b',
    '<rect x="10" y="14" width="44" height="36" rx="4" fill="none" stroke="#fff" stroke-width="4"/>' +
      '<path d="M18 26l7 6-7 6" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/>' +
      '<path d="M30 40h14" stroke="#fff" stroke-width="4" stroke-linecap="round"/>',
  ),
  fields: {
    host: field.string({ label: 'Host', placeholder: 'git.example.com', maxLength: 253, required: false }),
    port: field.integer({ label: 'Port', default: 22, min: 1, max: 65535 }),
    username: field.string({ label: 'Username' }),
    privateKey: field.secret({
      label: 'Private key',
      help: 'The whole key file, in OpenSSH or PEM format.',
      placeholder: '-----BEGIN OPENSSH PRIVATE KEY-----',
      multiline: true,
    }),
    passphrase: field.secret({
      label: 'Passphrase',
      help: 'Only if the private key is encrypted.',
      required: false,
    }),
    publicKey: field.text({ label: 'Public key', placeholder: 'ssh-ed25519 AAAA…', required: false }),
  },
});
