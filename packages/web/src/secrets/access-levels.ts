import type { AccessLevel } from '../api/types';

/** The share levels, lowest first, each with the one line the share dialog explains it with. */
export const accessLevels: readonly { level: AccessLevel; title: string; explanation: string }[] = [
  {
    level: 'use',
    title: 'Use',
    explanation:
      'Server-side features may use it on their behalf (connection tests, mail); they never see the values.',
  },
  { level: 'read', title: 'Read', explanation: 'Listed in their secrets; they can reveal the values.' },
  { level: 'write', title: 'Write', explanation: 'They can also change the values, description and labels.' },
  { level: 'manage', title: 'Manage', explanation: 'They can also share it with others and delete it.' },
];

/** The default level of a new share: `read` for a user (it shows in their list), `use` for a group. */
export function defaultLevel(granteeType: 'user' | 'group'): AccessLevel {
  return granteeType === 'user' ? 'read' : 'use';
}
