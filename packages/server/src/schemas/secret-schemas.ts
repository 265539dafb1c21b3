import { accessLevels, maxBatchCreate } from '@coffer/core';
import { z } from 'zod';
import { pageQueryShape, pathSegment, problemSchema, queryBoolean } from './common-schemas.js';

const fieldValue = z.union([z.string(), z.number(), z.boolean()]);

/** Values in a request: a flat map of field name to string, number or boolean. */
export const valuesInput = z
  .record(z.string().max(256), fieldValue)
  .describe('Field name → value; a secret field sent back as the mask keeps its stored value');

/** An expiry in a request: checked (and normalized) by the engine. */
const expiresAtInput = z
  .string()
  .max(40)
  .nullable()
  .describe('When its credentials expire: `2026-12-31` or `2026-12-31T18:00:00Z`; null for none');

const rotateEvery = 'must be a whole number of days from 1 to 3650, or null';
const rotateEveryDaysInput = z
  .number({ error: rotateEvery })
  .int(rotateEvery)
  .min(1, rotateEvery)
  .max(3650, rotateEvery)
  .nullable();

export const labelsSchema = z
  .record(z.string().max(63), z.string().max(255))
  .describe('Label name → value, e.g. `{"env": "prod"}`');

const accessLevel = z.enum(accessLevels);

export const secretMetadataSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    description: z.string(),
    labels: z.record(z.string(), z.string()),
    ownerId: z.string(),
    currentVersion: z.number().int(),
    revision: z
      .number()
      .int()
      .describe('Counts every change (values, description, labels, name, deletion); the ETag carries it'),
    backend: z.string().describe('The backend instance holding the values'),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: z.string(),
    updatedBy: z.string(),
    deletedAt: z.string().nullable(),
    purgeAfter: z.string().nullable(),
    expiresAt: z.string().nullable().describe('When its credentials expire (docs/reminders.md)'),
    rotateEveryDays: z.number().int().nullable().describe('How often its values should be rotated, in days'),
    rotationDueAt: z.string().nullable().describe('The last values change plus `rotateEveryDays`'),
    access: z.object({
      level: accessLevel.nullable(),
      basis: z.enum(['admin', 'owner', 'share', 'none']),
    }),
  })
  .meta({ id: 'SecretMetadata', description: "A secret's metadata; never its values." });

export const secretValuesSchema = z
  .object({
    secretId: z.string(),
    version: z.number().int(),
    values: z.record(z.string(), fieldValue),
    revealed: z.boolean().describe('True when secret fields carry their real values'),
    maskedFields: z.array(z.string()),
  })
  .meta({ id: 'SecretValues', description: 'Values of one version, masked unless revealed.' });

export const secretVersionSchema = z
  .object({
    version: z.number().int(),
    createdAt: z.string(),
    createdBy: z.string(),
    changedFields: z.array(z.string()),
    rollbackOf: z.number().int().nullable(),
    current: z.boolean(),
  })
  .meta({ id: 'SecretVersion' });

export const shareSchema = z
  .object({
    secretId: z.string(),
    granteeType: z.enum(['user', 'group']),
    granteeId: z.string(),
    granteeName: z.string(),
    level: accessLevel,
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'Share' });

export const refParams = z.strictObject({ ref: pathSegment.describe('The secret id or name') });

export const listSecretsQuery = z.strictObject({
  ...pageQueryShape,
  kind: z.string().max(100).optional(),
  label: z
    .union([z.string().max(400), z.array(z.string().max(400)).max(64)])
    .optional()
    .describe('`name` or `name=value`; repeat for several (all must match)'),
  namePrefix: z.string().max(128).optional(),
  state: z.enum(['live', 'deleted', 'all']).optional().describe('`deleted` lists the trash'),
  view: z.enum(['accessible', 'mine']).optional(),
});

export const createSecretBody = z.strictObject({
  name: z.string().max(256),
  kind: z.string().max(100),
  description: z.string().max(2000).optional(),
  labels: labelsSchema.optional(),
  values: valuesInput,
  ownerId: z.string().max(64).optional().describe('Admins only: create it for another user'),
  expiresAt: expiresAtInput.optional(),
  rotateEveryDays: rotateEveryDaysInput
    .optional()
    .describe("Rotate its values every this many days; absent: the kind's default; null: never"),
});

export const batchCreateBody = z.strictObject({
  secrets: z
    .array(createSecretBody)
    .min(1)
    .max(maxBatchCreate)
    .describe(`1 to ${maxBatchCreate} secrets, each as \`POST /secrets\` takes it`),
});

export const batchCreateResultSchema = z
  .object({
    results: z.array(
      z.object({
        name: z.string(),
        created: z.boolean(),
        secret: secretMetadataSchema.optional().describe('The new secret, when `created`'),
        error: problemSchema
          .optional()
          .describe('Why this one was not created, as a single create would say'),
      }),
    ),
  })
  .meta({
    id: 'BatchCreateResult',
    description: 'One result per requested secret, in the order of the request.',
  });

export const readValuesQuery = z.strictObject({
  reveal: queryBoolean.optional().describe('Show secret fields (needs `read`; audited)'),
  version: z.coerce
    .number({ error: 'must be a positive whole number' })
    .int('must be a positive whole number')
    .min(1, 'must be a positive whole number')
    .max(2 ** 31)
    .optional(),
});

export const updateValuesBody = z
  .strictObject({
    values: valuesInput.optional(),
    removeKeys: z.array(z.string().max(256)).max(1000).optional(),
  })
  .refine((b) => b.values !== undefined || b.removeKeys !== undefined, {
    message: 'give values to set or removeKeys to remove',
    path: ['values'],
  });

export const updateMetadataBody = z
  .strictObject({
    description: z.string().max(2000).optional(),
    labels: labelsSchema.optional().describe('Replaces every label'),
    expiresAt: expiresAtInput.optional(),
    rotateEveryDays: rotateEveryDaysInput
      .optional()
      .describe('Rotate its values every this many days; null: never'),
  })
  .refine(
    (b) =>
      b.description !== undefined ||
      b.labels !== undefined ||
      b.expiresAt !== undefined ||
      b.rotateEveryDays !== undefined,
    {
      message: 'give a description, labels, expiresAt or rotateEveryDays to change',
      path: ['description'],
    },
  );

export const renameBody = z.strictObject({ newName: z.string().max(256) });

export const rollbackBody = z.strictObject({
  toVersion: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31),
});

export const restoreBody = z
  .strictObject({ newName: z.string().max(256).optional().describe('When the old name was reused') })
  .optional();

export const deleteAllBody = z.strictObject({
  confirm: z.string().max(100).optional().describe('Must be `delete-all`'),
});

export const shareBody = z.strictObject({
  granteeType: z.enum(['user', 'group']),
  granteeId: z.string().min(1).max(64),
  level: accessLevel.optional().describe('Defaults to `read` for a user and `use` for a group'),
});

export const shareParams = z.strictObject({
  ref: pathSegment,
  granteeType: z.enum(['user', 'group']),
  granteeId: pathSegment,
});

export const connectionTestResultSchema = z
  .object({
    ok: z.boolean(),
    kind: z.string(),
    reason: z.string().optional().describe('Why it failed; never contains a secret value'),
    durationMs: z.number(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .meta({ id: 'ConnectionTestResult' });
