import { defineKind } from '../define-kind.js';
import { field } from '../field-builders.js';
import { tileLogo } from '../kind-logo.js';

/**
 * A Jira Cloud site reached with an account's email and API token.
 *
 * @example
 * jiraKind.validate({ baseUrl: 'https://acme.atlassian.net', email: 'bot@acme.com', apiToken: 't' });
 */
export const jiraKind = defineKind({
  id: 'jira',
  displayName: 'Jira',
  description: 'A Jira Cloud site reached with an account email and an API token.',
  source: 'builtin',
  rotateEveryDays: 90,
  // A ticket with a perforated stub.
  logo: tileLogo(
    '#1d4ed8',
    '<path d="M12 20h40v8a4 4 0 0 0 0 8v8H12v-8a4 4 0 0 0 0-8z" fill="#fff"/>' +
      '<path d="M40 22v20" stroke="#1d4ed8" stroke-width="3" stroke-dasharray="3 3"/>',
  ),
  fields: {
    baseUrl: field.string({
      label: 'Site URL',
      placeholder: 'https://your-team.atlassian.net',
      format: 'url',
      maxLength: 2048,
    }),
    email: field.string({ label: 'Account email', format: 'email' }),
    apiToken: field.secret({
      label: 'API token',
      help: 'Created under Atlassian account settings → Security → API tokens.',
    }),
  },
});
