import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * An AWS access key pair, optionally temporary (with a session token), and its region.
 *
 * @example
 * awsCredentialsKind.validate({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's', region: 'eu-central-1' });
 */
export const awsCredentialsKind = defineKind({
  id: 'aws-credentials',
  displayName: 'AWS credentials',
  description: 'An AWS access key pair, optionally with a session token, and a region.',
  source: 'builtin',
  rotateEveryDays: 90,
  // A cloud.
  logo: tileLogo(
    '#b45309',
    '<path d="M20 46a10 10 0 0 1-1.5-19.9A13 13 0 0 1 43.6 23 11.5 11.5 0 0 1 44 46z" fill="#fff"/>',
  ),
  fields: {
    accessKeyId: field.string({
      label: 'Access key ID',
      placeholder: 'AKIA…',
      pattern: '^[A-Z0-9]{16,128}$',
    }),
    secretAccessKey: field.secret({ label: 'Secret access key' }),
    sessionToken: field.secret({
      label: 'Session token',
      help: 'Only for temporary credentials issued by AWS STS.',
      required: false,
    }),
    region: field.string({
      label: 'Region',
      placeholder: 'eu-central-1',
      pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$',
    }),
  },
});
