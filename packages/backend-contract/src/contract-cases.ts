import type { Backend, SecretValues, ValueRef } from '@coffer/core';
import { expect } from 'vitest';
import {
  asciiOfEncodedSize,
  compareRefs,
  everythingIn,
  expectCofferError,
  inParallel,
  listAll,
  newSecretId,
  refKey,
  rejectionOf,
  unicodeValues,
} from './contract-support.js';

/** What a case gets to work with. */
export interface CaseContext {
  backend: Backend;
  tamper: ((ref: ValueRef) => Promise<void> | void) | undefined;
  /** How many refs the listing case stores. */
  listEntries: number;
}

export interface ContractCase {
  /** Why the case cannot run against this backend, or undefined when it can. */
  needs?: (ctx: CaseContext) => string | undefined;
  run: (ctx: CaseContext) => Promise<void>;
}

const needsListing = (ctx: CaseContext) =>
  ctx.backend.capabilities.listing ? undefined : 'the backend has no listing capability';
const needsVersioning = (ctx: CaseContext) =>
  ctx.backend.capabilities.versioning ? undefined : 'the backend keeps only the latest version';
/** How many bytes of encoded values the backend takes (64 KiB unless it says less). */
const valueBytesOf = (backend: Backend) => Math.min(64 * 1024, backend.limits?.maxValueBytes ?? 64 * 1024);
/** How many versions of one secret a case may keep at once (`wanted` unless the store allows fewer). */
const versionsOf = (backend: Backend, wanted: number) =>
  Math.min(wanted, backend.limits?.maxVersionsPerSecret ?? wanted);
const needsSizeLimit = (ctx: CaseContext) =>
  ctx.backend.limits?.maxValueBytes === undefined ? 'the backend declares no value size limit' : undefined;

const needsTamper = (ctx: CaseContext) =>
  ctx.tamper === undefined ? 'no tamper hook was given (create() returns { backend, tamper })' : undefined;

/**
 * The contract, case by case, in the order they run. Names are stable: `skip` lists refer to
 * them, and the first case expects the backend as `create` returned it.
 */
export const contractCases = {
  'starts empty': {
    async run({ backend }) {
      if (backend.capabilities.listing) expect(await backend.list()).toEqual([]);
      await expectCofferError(backend.get({ secretId: newSecretId(), version: 1 }), 'value_not_found', 'get');
    },
  },

  'describes itself with a name, a type and capabilities': {
    async run({ backend }) {
      expect(typeof backend.name).toBe('string');
      expect(backend.name.length).toBeGreaterThan(0);
      expect(typeof backend.type).toBe('string');
      for (const flag of ['versioning', 'listing', 'labels', 'envelope'] as const) {
        expect(typeof backend.capabilities[flag], `capabilities.${flag}`).toBe('boolean');
      }
    },
  },

  'puts and gets values by secret id and version, keeping types': {
    async run({ backend }) {
      const values: SecretValues = {
        text: 'plain text',
        empty: '',
        integer: 42,
        float: 3.25,
        negative: -7,
        zero: 0,
        big: Number.MAX_SAFE_INTEGER,
        yes: true,
        no: false,
        numeric: '0042',
        'with space': 'x y',
      };
      const ref = { secretId: newSecretId(), version: 1 };
      await backend.put(ref, values);
      expect(await backend.get(ref)).toStrictEqual(values);
      const none = { secretId: newSecretId(), version: 3 };
      await backend.put(none, {});
      expect(await backend.get(none)).toStrictEqual({});
    },
  },

  'replaces the value when the same ref is put again': {
    async run({ backend }) {
      const ref = { secretId: newSecretId(), version: 1 };
      await backend.put(ref, { a: 'first', gone: true });
      await backend.put(ref, { a: 'second' });
      expect(await backend.get(ref)).toStrictEqual({ a: 'second' });
    },
  },

  'reports a missing value as value_not_found': {
    async run({ backend }) {
      const secretId = newSecretId();
      await expectCofferError(
        backend.get({ secretId, version: 1 }),
        'value_not_found',
        'get of an unknown secret',
      );
      await backend.put({ secretId, version: 1 }, { a: '1' });
      await expectCofferError(
        backend.get({ secretId, version: 2 }),
        'value_not_found',
        'get of a version never put',
      );
    },
  },

  'deletes one version and leaves the others': {
    needs: needsVersioning,
    async run({ backend }) {
      const secretId = newSecretId();
      for (const version of [1, 2, 3]) await backend.put({ secretId, version }, { v: version });
      await backend.delete({ secretId, version: 2 });
      await expectCofferError(backend.get({ secretId, version: 2 }), 'value_not_found', 'get after delete');
      expect(await backend.get({ secretId, version: 1 })).toStrictEqual({ v: 1 });
      expect(await backend.get({ secretId, version: 3 })).toStrictEqual({ v: 3 });
      if (backend.capabilities.listing) {
        expect(await backend.list({ secretId })).toEqual([
          { secretId, version: 1 },
          { secretId, version: 3 },
        ]);
      }
    },
  },

  'deletes idempotently, also refs that never existed': {
    async run({ backend }) {
      const ref = { secretId: newSecretId(), version: 1 };
      await backend.put(ref, { a: '1' });
      await backend.delete(ref);
      await backend.delete(ref);
      await backend.delete({ secretId: ref.secretId, version: 99 });
      await backend.delete({ secretId: newSecretId(), version: 1 });
      await expectCofferError(backend.get(ref), 'value_not_found', 'get after delete');
      // a deleted ref can be put again
      await backend.put(ref, { a: 'again' });
      expect(await backend.get(ref)).toStrictEqual({ a: 'again' });
    },
  },

  'stores values of 64 KiB': {
    async run({ backend }) {
      // 64 KiB, or the most the store takes when it declares less (limits.maxValueBytes)
      const size = valueBytesOf(backend);
      const one = { blob: asciiOfEncodedSize('blob', size) };
      expect(JSON.stringify(one).length).toBe(size);
      const ref = { secretId: newSecretId(), version: 1 };
      await backend.put(ref, one);
      expect(await backend.get(ref)).toStrictEqual(one);
      // the same size spread over many fields, in multi-byte characters
      const many: SecretValues = {};
      const fields = Math.max(1, Math.floor(size / 256));
      for (let i = 0; i < fields; i++) many[`field-${i}`] = 'ü€'.repeat(40);
      while (Buffer.byteLength(JSON.stringify(many)) > size)
        delete many[`field-${Object.keys(many).length - 1}`];
      const ref2 = { secretId: newSecretId(), version: 1 };
      await backend.put(ref2, many);
      expect(await backend.get(ref2)).toStrictEqual(many);
    },
  },

  'refuses values over its size limit before storing them': {
    needs: needsSizeLimit,
    async run({ backend }) {
      const limit = backend.limits!.maxValueBytes!;
      const ref = { secretId: newSecretId(), version: 1 };
      const over = { blob: asciiOfEncodedSize('blob', limit + 1) };
      const err = await expectCofferError(backend.put(ref, over), 'payload_too_large', 'put over the limit');
      expect(everythingIn(err)).not.toContain(over.blob);
      await expectCofferError(backend.get(ref), 'value_not_found', 'get after a refused put');
      // a stored version is not damaged by a refused replacement
      await backend.put(ref, { kept: 'yes' });
      await expectCofferError(backend.put(ref, over), 'payload_too_large', 'replacement over the limit');
      expect(await backend.get(ref)).toStrictEqual({ kept: 'yes' });
    },
  },

  'keeps unicode field names and values intact': {
    async run({ backend }) {
      const ref = { secretId: newSecretId(), version: 1 };
      await backend.put(ref, { ...unicodeValues });
      const back = await backend.get(ref);
      expect(back).toStrictEqual({ ...unicodeValues });
      for (const [k, v] of Object.entries(unicodeValues)) {
        // not merely equal after normalization: the same code points
        expect(Buffer.from(String(back[k]), 'utf8').equals(Buffer.from(v, 'utf8')), k).toBe(true);
      }
    },
  },

  'keeps many versions of one secret apart': {
    needs: needsVersioning,
    async run({ backend }) {
      const secretId = newSecretId();
      // 40, or as many as the store keeps of one secret (limits.maxVersionsPerSecret)
      const count = versionsOf(backend, 40);
      const versions = Array.from({ length: count }, (_, i) => i + 1);
      for (const version of versions) {
        await backend.put({ secretId, version }, { version, text: `value of version ${version}` });
      }
      for (const version of versions) {
        expect(await backend.get({ secretId, version })).toStrictEqual({
          version,
          text: `value of version ${version}`,
        });
      }
      for (const version of versions.filter((v) => v % 2 === 0)) await backend.delete({ secretId, version });
      if (backend.capabilities.listing) {
        expect(await backend.list({ secretId })).toEqual(
          versions.filter((v) => v % 2 === 1).map((version) => ({ secretId, version })),
        );
      }
      const lastEven = count % 2 === 0 ? count : count - 1;
      const lastOdd = count % 2 === 1 ? count : count - 1;
      await expectCofferError(
        backend.get({ secretId, version: lastEven }),
        'value_not_found',
        'get of a deleted version',
      );
      expect(await backend.get({ secretId, version: lastOdd })).toStrictEqual({
        version: lastOdd,
        text: `value of version ${lastOdd}`,
      });
    },
  },

  'keeps secrets apart': {
    async run({ backend }) {
      const a = newSecretId();
      const b = newSecretId();
      await backend.put({ secretId: a, version: 1 }, { owner: 'a' });
      await backend.put({ secretId: b, version: 1 }, { owner: 'b' });
      await backend.delete({ secretId: a, version: 1 });
      expect(await backend.get({ secretId: b, version: 1 })).toStrictEqual({ owner: 'b' });
      await expectCofferError(
        backend.get({ secretId: a, version: 1 }),
        'value_not_found',
        'get of deleted a',
      );
      if (backend.capabilities.listing) expect(await backend.list({ secretId: a })).toEqual([]);
    },
  },

  'hands out copies that callers cannot change': {
    async run({ backend }) {
      const ref = { secretId: newSecretId(), version: 1 };
      const values: SecretValues = { a: 'original' };
      await backend.put(ref, values);
      values.a = 'changed after put';
      const first = await backend.get(ref);
      first.a = 'changed after get';
      expect(await backend.get(ref)).toStrictEqual({ a: 'original' });
    },
  },

  'serves concurrent puts to different secrets': {
    async run({ backend }) {
      const refs = Array.from({ length: 100 }, () => ({ secretId: newSecretId(), version: 1 }));
      await Promise.all(refs.map((ref, i) => backend.put(ref, { i, id: ref.secretId })));
      const back = await Promise.all(refs.map((ref) => backend.get(ref)));
      back.forEach((values, i) => {
        expect(values).toStrictEqual({ i, id: refs[i]!.secretId });
      });
    },
  },

  'serves concurrent puts to the same secret': {
    async run({ backend }) {
      const secretId = newSecretId();
      if (backend.capabilities.versioning) {
        const versions = Array.from({ length: versionsOf(backend, 30) }, (_, i) => i + 1);
        await Promise.all(versions.map((version) => backend.put({ secretId, version }, { version })));
        for (const version of versions)
          expect(await backend.get({ secretId, version })).toStrictEqual({ version });
      }
      // the same ref from many writers: the result is one of the values, whole
      const ref = { secretId, version: 100 };
      const candidates = Array.from({ length: 20 }, (_, i) => ({ writer: i, payload: `${i}`.repeat(2000) }));
      const reads: SecretValues[] = [];
      await backend.put(ref, candidates[0]!);
      await Promise.all([
        ...candidates.map((c) => backend.put(ref, c)),
        ...candidates.map(async () => {
          reads.push(await backend.get(ref));
        }),
      ]);
      const final = await backend.get(ref);
      for (const seen of [final, ...reads]) {
        expect(
          candidates.some((c) => JSON.stringify(c) === JSON.stringify(seen)),
          'a whole value',
        ).toBe(true);
      }
    },
  },

  'lists every ref exactly once, in order, across pages': {
    needs: needsListing,
    async run({ backend, listEntries }) {
      // versions 9 and 10 tell numeric order from text order
      const versionsEach = backend.capabilities.versioning ? [1, 2, 9, 10] : [1];
      const secretIds = Array.from({ length: Math.ceil(listEntries / versionsEach.length) }, newSecretId);
      const refs = secretIds.flatMap((secretId) => versionsEach.map((version) => ({ secretId, version })));
      await inParallel(refs, 16, (ref) => backend.put(ref, { v: ref.version }));
      const mine = new Set(secretIds);
      const expected = [...refs].sort(compareRefs);
      for (const limit of [1000, 97]) {
        const listed = await listAll((o) => backend.list(o), { limit });
        for (let i = 1; i < listed.length; i++) {
          expect(compareRefs(listed[i - 1]!, listed[i]!), `order at ${i} (limit ${limit})`).toBeLessThan(0);
        }
        expect(listed.filter((r) => mine.has(r.secretId))).toEqual(expected);
      }
      // starting in the middle of a secret's versions
      const middle = expected[Math.floor(expected.length / 2)]!;
      const rest = await listAll((o) => backend.list({ ...o, after: o.after ?? middle }), { limit: 250 });
      expect(rest.filter((r) => mine.has(r.secretId))).toEqual(
        expected.filter((r) => compareRefs(r, middle) > 0),
      );
      // one secret's versions
      const one = secretIds[7 % secretIds.length]!;
      expect(await backend.list({ secretId: one })).toEqual(
        versionsEach.map((version) => ({ secretId: one, version })),
      );
      expect(await backend.list({ secretId: one, after: { secretId: one, version: 2 }, limit: 1 })).toEqual(
        versionsEach.length > 1 ? [{ secretId: one, version: 9 }] : [],
      );
      // and nothing once deleted
      await inParallel(refs, 16, (ref) => backend.delete(ref));
      const left = await listAll((o) => backend.list(o), { limit: 1000 });
      expect(left.filter((r) => mine.has(r.secretId)).map(refKey)).toEqual([]);
    },
  },

  'refuses to list without the listing capability': {
    needs: (ctx) => (ctx.backend.capabilities.listing ? 'the backend can list' : undefined),
    async run({ backend }) {
      await expectCofferError(backend.list(), 'unsupported', 'list');
    },
  },

  'never puts a value into a thrown error': {
    async run({ backend, tamper }) {
      const planted = `planted-${newSecretId()}`;
      const secretId = newSecretId();
      const ref = { secretId, version: 1 };
      await backend.put(ref, { password: planted, [`key-${planted}`]: planted });
      const errors: unknown[] = [];
      const collect = async (promise: Promise<unknown>) => {
        errors.push(await rejectionOf(promise, 'the provoked operation'));
      };
      await collect(backend.get({ secretId, version: 2 }));
      await collect(backend.get({ secretId: newSecretId(), version: 1 }));
      if (tamper !== undefined) {
        const damaged = { secretId, version: 5 };
        await backend.put(damaged, { password: planted });
        await tamper(damaged);
        await collect(backend.get(damaged));
      }
      await backend.delete(ref);
      await collect(backend.get(ref));
      for (const err of errors) {
        expect(everythingIn(err)).not.toContain(planted);
      }
    },
  },

  'fails closed on a tampered value, for that ref only': {
    needs: needsTamper,
    async run({ backend, tamper }) {
      const secretId = newSecretId();
      const other = newSecretId();
      const victim = { secretId, version: 2 };
      await backend.put({ secretId, version: 1 }, { v: 1 });
      await backend.put(victim, { v: 2 });
      await backend.put({ secretId: other, version: 2 }, { v: 'other' });
      await tamper!(victim);
      await expectCofferError(backend.get(victim), 'integrity', 'get of a tampered value');
      if (backend.capabilities.versioning)
        expect(await backend.get({ secretId, version: 1 })).toStrictEqual({ v: 1 });
      expect(await backend.get({ secretId: other, version: 2 })).toStrictEqual({ v: 'other' });
      // the damaged value can be deleted and replaced
      await backend.delete(victim);
      await backend.put(victim, { v: 'repaired' });
      expect(await backend.get(victim)).toStrictEqual({ v: 'repaired' });
    },
  },
} satisfies Record<string, ContractCase>;

/** The name of one case of the contract, as `skip` lists name them. */
export type ContractCaseName = keyof typeof contractCases;

export const contractCaseNames = Object.keys(contractCases) as ContractCaseName[];
