import { shareLinkLimits as limits } from '@coffer/core';
import { z } from 'zod';
import { pageQueryShape, pathSegment } from './common-schemas.js';

const fieldValue = z.union([z.string(), z.number(), z.boolean()]);

export const shareLinkSchema = z
  .object({
    id: z.string(),
    secretId: z.string(),
    secretName: z.string().describe("The secret's name when the link was made"),
    secretKind: z.string(),
    fields: z.array(z.string()).describe('The fields the link reveals'),
    createdBy: z.string(),
    createdByName: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    maxViews: z.number().int(),
    views: z.number().int(),
    passphrase: z.boolean().describe('Opening it needs a passphrase too'),
    state: z
      .enum(['active', 'used', 'expired', 'revoked'])
      .describe('Every state but `active` is final: the copy of the values is gone'),
    revokeReason: z.enum(['revoked', 'secret_deleted', 'too_many_failures']).nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable().describe('A user id, or `system`'),
    lastViewedAt: z.string().nullable(),
    failedAttempts: z.number().int().describe('Wrong passphrases tried'),
  })
  .meta({ id: 'ShareLink', description: 'A one-time share link: metadata only, never its key nor a value.' });

export const createShareLinkBody = z
  .strictObject({
    fields: z
      .array(z.string().min(1).max(256))
      .min(1)
      .max(1000)
      .optional()
      .describe('The fields to share (default: every field)'),
    ttlSeconds: z
      .number()
      .int()
      .min(limits.minTtlSeconds)
      .max(limits.maxTtlSeconds)
      .optional()
      .describe('Seconds until it expires: 300 to 2592000 (30 days); default 86400'),
    maxViews: z
      .number()
      .int()
      .min(limits.minViews)
      .max(limits.maxViews)
      .optional()
      .describe('How many times it opens: 1 to 100; default 1'),
    passphrase: z
      .string()
      .min(limits.minPassphraseLength)
      .max(limits.maxPassphraseLength)
      .optional()
      .describe('Needed as well as the link; send it to the recipient another way'),
  })
  .optional();

export const createdShareLinkSchema = z
  .object({
    link: shareLinkSchema,
    key: z.string().describe('The link key (the part after `#`): in this answer only, never stored'),
    path: z.string().describe('`/s/<id>#<key>`'),
    url: z.string().describe("The whole link: the web UI's address and `path`"),
  })
  .meta({ id: 'CreatedShareLink', description: 'A new share link; the key is shown only here.' });

export const shareLinkParams = z.strictObject({ id: pathSegment.describe('The share link id') });

export const shareLinkListQuery = z.strictObject(pageQueryShape);

const linkKey = z.string().max(200).describe('The part of the link after `#`');

export const previewShareLinkBody = z.strictObject({ key: linkKey });

export const openShareLinkBody = z.strictObject({
  key: linkKey,
  passphrase: z.string().max(4096).optional(),
});

const previewShape = {
  id: z.string(),
  secretName: z.string(),
  secretKind: z.string(),
  fields: z.array(z.string()),
  createdByName: z.string().describe('Who made the link'),
  createdAt: z.string(),
  expiresAt: z.string(),
  viewsLeft: z.number().int(),
  passphraseRequired: z.boolean(),
};

export const shareLinkPreviewSchema = z
  .object(previewShape)
  .meta({ id: 'ShareLinkPreview', description: 'What a link holds, before opening it (no view counted).' });

export const openedShareLinkSchema = z
  .object({ ...previewShape, values: z.record(z.string(), fieldValue) })
  .meta({
    id: 'OpenedShareLink',
    description: 'The shared values; `viewsLeft` 0 means the copy is gone now.',
  });
