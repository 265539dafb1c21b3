import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * Connection details of a database. `port` is optional because every engine has a
 * well-known one.
 *
 * @example
 * databaseKind.validate({ host: 'db.internal', database: 'app', username: 'app', password: 'p' }).engine; // 'postgres'
 */
export const databaseKind = defineKind({
  id: 'database',
  displayName: 'Database',
  description: 'Connection details of a SQL or document database.',
  source: 'builtin',
  // A cylinder.
  logo: tileLogo(
    '#047857',
    '<path d="M16 18v28c0 3.3 7.2 6 16 6s16-2.7 16-6V18z" fill="#fff"/>' +
      '<ellipse cx="32" cy="18" rx="16" ry="6" fill="#fff" stroke="#047857" stroke-width="3"/>' +
      '<path d="M16 32c0 3.3 7.2 6 16 6s16-2.7 16-6" fill="none" stroke="#047857" stroke-width="3"/>',
  ),
  fields: {
    engine: field.enum(
      ['postgres', 'mysql', 'mariadb', 'sqlserver', 'oracle', 'sqlite', 'mongodb'] as const,
      {
        label: 'Engine',
        default: 'postgres',
      },
    ),
    host: field.string({ label: 'Host', placeholder: 'db.example.com', maxLength: 253 }),
    port: field.integer({
      label: 'Port',
      help: "Leave empty for the engine's usual port.",
      min: 1,
      max: 65535,
      required: false,
    }),
    database: field.string({ label: 'Database', help: 'Database (or schema) name; a file path for SQLite.' }),
    username: field.string({ label: 'Username' }),
    password: field.secret({ label: 'Password' }),
    sslMode: field.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const, {
      label: 'SSL mode',
      help: 'How strictly the connection must be encrypted and the server certificate checked.',
      required: false,
    }),
  },
});
