import { z } from 'zod';
import { hasControlCharacters } from '../shared/control-characters.js';

/**
 * Usernames and group names: lowercase, so `Ada` and `ada` cannot be two people, and safe in
 * URLs, CLI arguments and `{{ }}` references without quoting.
 */
export const namePattern = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const nameRule = 'must be 2 to 64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit';

export const usernameSchema = z.string().regex(namePattern, nameRule);
export const groupNameSchema = z.string().regex(namePattern, nameRule);
const noControlCharacters = (text: string) => !hasControlCharacters(text, true);
const controlRule = 'must not contain control characters';

const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine(noControlCharacters, controlRule);
const emailSchema = z.email('must be an email address').max(320, 'must be at most 320 characters').nullable();
const roleSchema = z.enum(['admin', 'member']);
const descriptionSchema = z
  .string()
  .max(1000, 'must be at most 1000 characters')
  .refine(noControlCharacters, controlRule);

export const createUserSchema = z.strictObject({
  username: usernameSchema,
  displayName: displayNameSchema.optional(),
  email: emailSchema.optional(),
  role: roleSchema.optional(),
  type: z.enum(['user', 'service_account']).optional(),
  // Checked by the password policy, which never echoes the value.
  password: z.unknown().optional(),
});

export const updateUserSchema = z.strictObject({
  displayName: displayNameSchema.optional(),
  email: emailSchema.optional(),
  role: roleSchema.optional(),
  disabled: z.boolean().optional(),
});

export const createGroupSchema = z.strictObject({
  name: groupNameSchema,
  description: descriptionSchema.optional(),
});

export const updateGroupSchema = z.strictObject({
  name: groupNameSchema.optional(),
  description: descriptionSchema.optional(),
});

export const createTokenSchema = z.strictObject({
  userId: z.string().min(1).max(64).optional(),
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .refine(noControlCharacters, controlRule),
  scope: z.enum(['read-only', 'read-write']),
  expiresAt: z
    .union([z.string(), z.date()])
    .nullable()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === null) return null;
      const time = value instanceof Date ? value.getTime() : Date.parse(value);
      // Beyond year 9999 toISOString() grows a sign and six digits and would sort wrongly.
      if (Number.isNaN(time) || time >= Date.UTC(10000, 0, 1)) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time before year 10000' });
        return z.NEVER;
      }
      return new Date(time).toISOString();
    }),
});

export const listRequestSchema = z.object({
  query: z.string().max(200, 'must be at most 200 characters').optional(),
  cursor: z.string().nullable().optional(),
  limit: z.number().optional(),
});
