import { z } from 'zod';
import { pageQueryShape, queryBoolean } from './common-schemas.js';

export const userSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    type: z.enum(['user', 'service_account']),
    role: z.enum(['admin', 'member']),
    disabled: z.boolean(),
    email: z.string().nullable().optional().describe('Only for admins and the user themself'),
    lastLoginAt: z.string().nullable().optional().describe('Only for admins and the user themself'),
    hasPassword: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

export const tokenInfoSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    name: z.string(),
    prefix: z.string().describe('`cfr_` and the next 8 characters, to tell tokens apart'),
    scope: z.enum(['read-only', 'read-write']),
    state: z.enum(['active', 'expired', 'revoked']),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'TokenInfo' });

export const groupSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    builtin: z.boolean(),
    memberCount: z.number().int(),
    createdAt: z.string(),
  })
  .meta({ id: 'Group' });

export const groupMemberSchema = z
  .object({
    userId: z.string(),
    username: z.string(),
    displayName: z.string(),
    type: z.enum(['user', 'service_account']),
    disabled: z.boolean(),
    addedAt: z.string(),
  })
  .meta({ id: 'GroupMember' });

export const groupWithMembersSchema = groupSchema
  .extend({ members: z.array(groupMemberSchema) })
  .meta({ id: 'GroupWithMembers' });

export const listUsersQuery = z.strictObject({
  ...pageQueryShape,
  query: z.string().max(200).optional().describe('A prefix of the username or display name'),
  includeDisabled: queryBoolean.optional(),
});

export const listGroupsQuery = z.strictObject({
  ...pageQueryShape,
  query: z.string().max(200).optional().describe('A prefix of the group name'),
});

export const listTokensQuery = z.strictObject({
  ...pageQueryShape,
  userId: z.string().max(64).optional().describe("Admins: someone else's tokens"),
  includeInactive: queryBoolean.optional(),
});

const password = z.string().max(4096);

export const createUserBody = z.strictObject({
  username: z.string().max(256),
  displayName: z.string().max(400).optional(),
  email: z.string().max(400).nullable().optional(),
  role: z.enum(['admin', 'member']).optional(),
  type: z.enum(['user', 'service_account']).optional().describe('`service_account`: a bot with tokens only'),
  password: password.optional().describe('12 to 1024 characters; never for service accounts'),
});

export const updateUserBody = z.strictObject({
  displayName: z.string().max(400).optional(),
  email: z.string().max(400).nullable().optional(),
  role: z.enum(['admin', 'member']).optional(),
  disabled: z.boolean().optional(),
});

export const setPasswordBody = z.strictObject({
  newPassword: password,
  currentPassword: password.optional().describe('Required when changing your own'),
});

export const createTokenBody = z.strictObject({
  name: z.string().max(200),
  scope: z.enum(['read-only', 'read-write']),
  userId: z.string().max(64).optional().describe('Admins: a token for another user or a service account'),
  expiresAt: z.string().max(64).nullable().optional().describe('ISO-8601; none: until revoked'),
});

export const createGroupBody = z.strictObject({
  name: z.string().max(256),
  description: z.string().max(2000).optional(),
});

export const updateGroupBody = z.strictObject({
  name: z.string().max(256).optional(),
  description: z.string().max(2000).optional(),
});

export const loginBody = z.strictObject({
  username: z.string().max(1024),
  password: password,
});
