import { randomBytes } from 'node:crypto';
import {
  type Coffer,
  type DataKeyCacheSettings,
  externalKekId,
  type KeySourceDefinition,
} from '@coffer/core';
import { expect, vi } from 'vitest';
import { everythingIn, expectCofferError } from './contract-support.js';
import type { KmsUnderTest, WrappedKeyTampering } from './key-source-contract.js';
import { type KeySourceCoffer, openKeySourceCoffer } from './key-source-fixture.js';

/** What a case gets to work with: the running KMS and the suite's settings. */
export interface KeySourceCaseContext {
  name: string;
  definition: KeySourceDefinition;
  rotates: boolean;
  kekIdPattern: RegExp | undefined;
  kms: KmsUnderTest;
  tamper: readonly WrappedKeyTampering[];
  vendorDetails: {
    moved?: Record<string, unknown>;
    missingKey?: Record<string, unknown>;
    disabledKey?: Record<string, unknown>;
  };
  rewrapSecrets: number;
}

type KmsHook = 'keyVersions' | 'slowDown' | 'stop' | 'restart' | 'missingKey' | 'addKey';

export interface KeySourceCase {
  /** Hooks of {@link KmsUnderTest} the case cannot do without. */
  needs?: readonly KmsHook[];
  /** Whether the case rotates the key (skipped, saying so, for a source that cannot). */
  rotates?: boolean;
  run: (ctx: KeySourceCaseContext) => Promise<void>;
}

/** The value every case stores; it must never reach an error or a log line. */
const planted = `PLANTED-key-source-${randomBytes(6).toString('hex')}`;
const cached: Partial<DataKeyCacheSettings> = { maxEntries: 100, ttlSeconds: 60 };
const uncached: Partial<DataKeyCacheSettings> = { maxEntries: 0, ttlSeconds: 0 };

type CofferFailure = Error & { code: string; details: Record<string, unknown> };

async function failure(promise: Promise<unknown>, code: string, what: string): Promise<CofferFailure> {
  return (await expectCofferError(promise, code, what)) as CofferFailure;
}

function create(fx: KeySourceCoffer, coffer: Coffer, name: string, password = planted) {
  return coffer.secrets.create(fx.admin, { name, kind: 'generic', values: { password } });
}

async function reveal(fx: KeySourceCoffer, coffer: Coffer, id: string): Promise<unknown> {
  return (await coffer.secrets.readValues(fx.admin, id, { reveal: true })).values.password;
}

/** The ids of the keys that wrap the stored values, sorted. */
async function kekIds(coffer: Coffer): Promise<string[]> {
  const rows = await coffer.database.db.selectFrom('secret_values').select('kek_id').distinct().execute();
  return rows.map((r) => r.kek_id).sort();
}

async function blobOf(coffer: Coffer, secretId: string): Promise<Buffer> {
  const row = await coffer.database.db
    .selectFrom('secret_values')
    .select('blob')
    .where('secret_id', '=', secretId)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.blob);
}

async function setBlob(coffer: Coffer, secretId: string, blob: Buffer): Promise<void> {
  await coffer.database.db
    .updateTable('secret_values')
    .set({ blob })
    .where('secret_id', '=', secretId)
    .execute();
}

/** A fresh Coffer on the KMS's key (or on the key file), closed after `fn` whatever happens. */
async function withCoffer(
  ctx: KeySourceCaseContext,
  keyring: { cache?: Partial<DataKeyCacheSettings> } | 'key file',
  fn: (fx: KeySourceCoffer) => Promise<void>,
): Promise<void> {
  const fx = await openKeySourceCoffer(
    ctx.definition,
    keyring === 'key file'
      ? undefined
      : ctx.kms.keyring(keyring.cache === undefined ? {} : { cache: keyring.cache }),
  );
  try {
    await fn(fx);
    expect(fx.logText(), 'a planted value in the log').not.toContain(planted);
  } finally {
    await fx.close();
  }
}

/** Ends an outage however the case ends, so the next case finds the KMS up. */
async function duringOutage(kms: KmsUnderTest, fn: () => Promise<void>): Promise<void> {
  await kms.stop!();
  try {
    await fn();
  } finally {
    await kms.restart!();
  }
}

/**
 * The contract, case by case, in the order they run. Names are stable: `skip` lists refer to
 * them. Every case opens its own Coffer on the one KMS the suite started.
 */
export const keySourceCases = {
  'seals through the KMS and reveals from the cache without a KMS call': {
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, { cache: cached }, async (fx) => {
        const status = await fx.coffer.keyring.status(fx.admin);
        expect(status.source).toEqual({ type: 'kms', provider: ctx.definition.id, key: kms.configuredKey });
        expect(status.canRotate, 'status().canRotate').toBe(ctx.rotates);
        expect(status.keys).toHaveLength(1);
        const [key] = status.keys;
        expect(key).toMatchObject({ id: status.currentKeyId, current: true });
        if (kms.keyVersions === undefined) {
          expect(key?.external?.keyId).toBe(kms.keyId);
        } else {
          const versions = await kms.keyVersions();
          expect(key?.external).toEqual({ keyId: kms.keyId, keyVersion: versions.current });
        }
        expect(status.currentKeyId).toBe(externalKekId(ctx.definition.id, key!.external!));
        if (ctx.kekIdPattern !== undefined) expect(status.currentKeyId).toMatch(ctx.kekIdPattern);

        kms.resetCounts();
        const secret = await create(fx, fx.coffer, 'sealed');
        expect(kms.requestCount(kms.operations.wrap), 'wraps for one new value').toBe(1);
        for (let i = 0; i < 3; i++) expect(await reveal(fx, fx.coffer, secret.id)).toBe(planted);
        expect(kms.requestCount(kms.operations.unwrap), 'unwraps of a data key the engine made').toBe(0);

        // A restarted engine has a cold cache: one unwrap, then none.
        const again = await fx.reopen();
        kms.resetCounts();
        expect(await reveal(fx, again, secret.id)).toBe(planted);
        expect(await reveal(fx, again, secret.id)).toBe(planted);
        expect(kms.requestCount(kms.operations.unwrap), 'unwraps after a restart').toBe(1);
      });
    },
  },

  'rotates to new key material and re-wraps every value onto it': {
    rotates: true,
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, { cache: cached }, async (fx) => {
        const { coffer } = fx;
        const secret = await create(fx, coffer, 'rotated');
        // An engine that read the value before the rotation keeps reading it after.
        const again = await fx.reopen();
        expect(await reveal(fx, again, secret.id)).toBe(planted);
        const status = await coffer.keyring.status(fx.admin);
        const before = status.currentKeyId;
        const versions = await kms.keyVersions?.();

        kms.resetCounts();
        const rotated = await coffer.keyring.rotate(fx.admin);
        expect(rotated.id).not.toBe(before);
        if (versions === undefined) {
          expect(rotated.external?.keyId).toBe(kms.keyId);
        } else {
          const now = await kms.keyVersions!();
          expect(now.count, 'versions of the key after a rotation').toBe(versions.count + 1);
          expect(now.current).not.toBe(versions.current);
          expect(rotated.external).toEqual({ keyId: kms.keyId, keyVersion: now.current });
        }
        await coffer.keyring.settled();
        const after = await coffer.keyring.status(fx.admin);
        expect(after.rewrap).toMatchObject({ state: 'idle', failed: 0 });
        expect(after.keys.map((k) => [k.id, k.current]).sort()).toEqual(
          [
            [before, false],
            [rotated.id, true],
          ].sort(),
        );
        expect(await kekIds(coffer)).toEqual([rotated.id]);
        if (kms.operations.rewrap !== undefined) {
          expect(kms.requestCount(kms.operations.rewrap), 're-wraps in one call').toBeGreaterThan(0);
        }
        expect(await reveal(fx, again, secret.id)).toBe(planted);
        expect(await reveal(fx, await fx.reopen(), secret.id)).toBe(planted);
      });
    },
  },

  'fails reveals and writes closed with key_unavailable while the KMS is down, keeps listing, serves cached keys within their TTL, and recovers':
    {
      needs: ['stop', 'restart'],
      async run(ctx) {
        const { kms } = ctx;
        await withCoffer(ctx, { cache: cached }, async (fx) => {
          const warm = await create(fx, fx.coffer, 'outage-cached');
          const cold = await create(fx, fx.coffer, 'outage-cold');
          const reader = await fx.reopen();
          expect(await reveal(fx, reader, warm.id)).toBe(planted);

          await duringOutage(kms, async () => {
            const err = await failure(
              reveal(fx, reader, cold.id),
              'key_unavailable',
              'a reveal in an outage',
            );
            expect(err.details).toMatchObject({ reason: 'unreachable', secretId: cold.id, keyId: kms.keyId });
            expect(err.message).toContain(kms.keyId);
            expect(everythingIn(err)).not.toContain(planted);

            const listed = await reader.secrets.list(fx.admin);
            expect(listed.items.map((s) => s.name)).toEqual(
              expect.arrayContaining(['outage-cached', 'outage-cold']),
            );
            expect((await reader.secrets.get(fx.admin, 'outage-cold')).name).toBe('outage-cold');

            // Within its TTL the cached data key still opens; past it, nothing does.
            expect(await reveal(fx, reader, warm.id)).toBe(planted);
            fx.advance(61);
            await failure(reveal(fx, reader, warm.id), 'key_unavailable', 'a reveal past the TTL');
            await failure(create(fx, reader, 'outage-write'), 'key_unavailable', 'a write in an outage');
          });
          expect(await reveal(fx, reader, cold.id)).toBe(planted);
          expect(await reveal(fx, reader, warm.id)).toBe(planted);
          expect((await create(fx, reader, 'outage-write')).name).toBe('outage-write');
        });
      },
    },

  'refuses a tampered wrapped key with integrity, the other values unharmed': {
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, { cache: cached }, async (fx) => {
        const { coffer } = fx;
        const victim = await create(fx, coffer, 'tamper-victim');
        const bystander = await create(fx, coffer, 'tamper-bystander');
        const original = await blobOf(coffer, victim.id);
        // The value's IV (12 bytes), tag (16) and ciphertext end the blob; the wrapped key is before.
        const wrappedEnd = original.length - (12 + 16 + JSON.stringify({ password: planted }).length);
        for (const tampering of ctx.tamper) {
          const tampered = Buffer.from(original);
          tampering.change(tampered, wrappedEnd);
          expect(tampered.equals(original), `${tampering.what}: change() changed nothing`).toBe(false);
          await setBlob(coffer, victim.id, tampered);
          const fresh = await fx.reopen();
          kms.resetCounts();
          const err = await failure(reveal(fx, fresh, victim.id), 'integrity', tampering.what);
          expect(err.details, tampering.what).toMatchObject({ keyId: kms.keyId, ...tampering.details });
          expect(kms.requestCount(kms.operations.unwrap), `${tampering.what}: unwraps`).toBe(1);
          expect(everythingIn(err)).not.toContain(planted);
          expect(await reveal(fx, fresh, bystander.id)).toBe(planted);
        }
        await setBlob(coffer, victim.id, original);
        expect(await reveal(fx, await fx.reopen(), victim.id)).toBe(planted);
      });
    },
  },

  'refuses a wrapped key moved onto another secret with integrity': {
    async run(ctx) {
      await withCoffer(ctx, { cache: cached }, async (fx) => {
        const { coffer } = fx;
        const victim = await create(fx, coffer, 'moved-victim');
        const other = await create(fx, coffer, 'moved-other', `${planted}-other`);
        const original = await blobOf(coffer, victim.id);
        await setBlob(coffer, victim.id, await blobOf(coffer, other.id));
        const fresh = await fx.reopen();
        const err = await failure(reveal(fx, fresh, victim.id), 'integrity', "another secret's blob");
        expect(err.details).toMatchObject({ secretId: victim.id, ...ctx.vendorDetails.moved });
        expect(everythingIn(err)).not.toContain(planted);
        expect(await reveal(fx, fresh, other.id)).toBe(`${planted}-other`);
        await setBlob(coffer, victim.id, original);
        expect(await reveal(fx, await fx.reopen(), victim.id)).toBe(planted);
      });
    },
  },

  'names a missing key at start': {
    needs: ['missingKey'],
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, {}, async (fx) => {
        const missing = kms.missingKey!();
        const err = await failure(
          fx.reopen(kms.keyring(missing.settings)),
          'key_unavailable',
          'a start on a missing key',
        );
        expect(err.message).toContain(missing.keyId);
        expect(err.details).toMatchObject({
          reason: 'key_not_found',
          keyId: missing.keyId,
          ...ctx.vendorDetails.missingKey,
        });
      });
    },
  },

  'names a disabled key at start': {
    needs: ['addKey'],
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, {}, async (fx) => {
        const added = await kms.addKey!('coffer-disabled');
        if (added.disable === undefined) {
          throw new Error('this case needs `disable` on the key addKey() made, or a skip with a reason');
        }
        await added.disable();
        const err = await failure(
          fx.reopen(kms.keyring(added.settings)),
          'key_unavailable',
          'a start on a disabled key',
        );
        expect(err.message).toContain(added.external.keyId);
        expect(err.details).toMatchObject({
          reason: 'key_disabled',
          keyId: added.external.keyId,
          ...ctx.vendorDetails.disabledKey,
        });
      });
    },
  },

  'moves to a newly configured key without losing the old one': {
    needs: ['addKey'],
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, {}, async (fx) => {
        const added = await kms.addKey!('coffer-next');
        const secret = await create(fx, fx.coffer, 'before-switch');
        const moved = await fx.reopen(kms.keyring(added.settings));
        expect(await reveal(fx, moved, secret.id)).toBe(planted);
        await moved.keyring.rewrapPending();
        const status = await moved.keyring.status(fx.admin);
        expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
        expect(await kekIds(moved)).toEqual([status.currentKeyId]);
        expect(status.keys.find((k) => k.current)?.external).toEqual(added.external);
        expect(await reveal(fx, moved, secret.id)).toBe(planted);
      });
    },
  },

  'loses nothing when the KMS goes away in the middle of a re-wrap, and a resumed re-wrap finishes': {
    rotates: true,
    needs: ['slowDown', 'stop', 'restart'],
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, { cache: uncached }, async (fx) => {
        const { coffer } = fx;
        const ids: string[] = [];
        for (let i = 0; i < ctx.rewrapSecrets; i++) {
          ids.push((await create(fx, coffer, `bulk-${i}`, `${planted}-${i}`)).id);
        }
        const first = (await coffer.keyring.status(fx.admin)).currentKeyId;

        // Slow every re-wrap down so the outage surely lands mid-run.
        const rewrapCall = kms.operations.rewrap ?? kms.operations.unwrap;
        kms.slowDown!(rewrapCall, 25);
        kms.resetCounts();
        const rotated = await coffer.keyring.rotate(fx.admin);
        await vi.waitFor(() => expect(kms.requestCount(rewrapCall)).toBeGreaterThanOrEqual(5), {
          timeout: 10_000,
        });
        await duringOutage(kms, async () => {
          await coffer.keyring.settled();
          const stopped = await coffer.keyring.status(fx.admin);
          expect(stopped.rewrap.state).toBe('failed');
          expect(stopped.rewrap.failed).toBe(0);
          expect(stopped.rewrap.error).toContain('could not re-wrap a data key');
          expect(await kekIds(coffer)).toEqual([first, rotated.id].sort());
        });

        for (const [i, id] of ids.entries()) expect(await reveal(fx, coffer, id)).toBe(`${planted}-${i}`);
        await coffer.keyring.rewrapPending();
        const done = await coffer.keyring.status(fx.admin);
        expect(done.rewrap).toMatchObject({ state: 'idle', failed: 0 });
        expect(await kekIds(coffer)).toEqual([rotated.id]);
        for (const [i, id] of ids.entries()) expect(await reveal(fx, coffer, id)).toBe(`${planted}-${i}`);
      });
    },
  },

  'moves from the key file through keyring.previous and re-wraps every value into the KMS': {
    async run(ctx) {
      const { kms } = ctx;
      await withCoffer(ctx, 'key file', async (fx) => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++)
          ids.push((await create(fx, fx.coffer, `from-file-${i}`, `${planted}-${i}`)).id);
        const fileKey = (await fx.coffer.keyring.status(fx.admin)).currentKeyId;

        const onKms = await fx.reopen(kms.keyring({ previous: { source: 'file' } }));
        for (const [i, id] of ids.entries()) expect(await reveal(fx, onKms, id)).toBe(`${planted}-${i}`);
        await onKms.keyring.rewrapPending();
        const status = await onKms.keyring.status(fx.admin);
        expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
        expect(status.missingKeyIds).toEqual([]);
        expect(await kekIds(onKms)).toEqual([status.currentKeyId]);

        // The key file is no longer needed: every value is wrapped by the KMS now.
        const kmsOnly = await fx.reopen(kms.keyring());
        for (const [i, id] of ids.entries()) expect(await reveal(fx, kmsOnly, id)).toBe(`${planted}-${i}`);
        expect((await kmsOnly.keyring.status(fx.admin)).missingKeyIds).toEqual([fileKey]);
      });
    },
  },
} satisfies Record<string, KeySourceCase>;

export type KeySourceCaseName = keyof typeof keySourceCases;

/** Every case name, in the order the suite runs them. */
export const keySourceCaseNames = Object.keys(keySourceCases) as KeySourceCaseName[];
