// Typed errors from the real server: status, stable code, issues and details; and what never
// appears in an error.
import { CofferApiError, isCofferApiError } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, startCoffer, type TestCoffer } from './support/coffer-server.js';

let coffer: TestCoffer;
const planted = 'planted-value-7d1c0a9e';

beforeAll(async () => {
  coffer = await startCoffer();
  await coffer.admin.secrets.create({ name: 'db', kind: 'generic', values: { password: planted } });
});
afterAll(() => cleanupServers());

async function failure(promise: Promise<unknown>): Promise<CofferApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CofferApiError)) throw new Error(`expected a CofferApiError, got ${String(err)}`);
  expect(JSON.stringify(err)).not.toContain(planted);
  expect(err.message).not.toContain(planted);
  expect(err.message).not.toContain(coffer.token);
  return err;
}

describe('errors', () => {
  it('404 not_found', async () => {
    const err = await failure(coffer.admin.secrets.get('no-such-secret'));
    expect(err).toMatchObject({
      status: 404,
      code: 'not_found',
      method: 'GET',
      path: '/secrets/no-such-secret',
    });
    expect(err.name).toBe('CofferApiError');
    expect(isCofferApiError(err, 'not_found', 'forbidden')).toBe(true);
    expect(isCofferApiError(err, 'forbidden')).toBe(false);
  });

  it('409 already_exists', async () => {
    const err = await failure(
      coffer.admin.secrets.create({ name: 'db', kind: 'generic', values: { a: '1' } }),
    );
    expect(err).toMatchObject({ status: 409, code: 'already_exists' });
  });

  it('412 version_conflict, with both versions in details, and nothing changed', async () => {
    await coffer.admin.secrets.updateValues('db', { values: { user: 'app' } });
    const err = await failure(
      coffer.admin.secrets.updateValues('db', { values: { password: 'lost' } }, { ifVersion: 1 }),
    );
    expect(err).toMatchObject({ status: 412, code: 'version_conflict' });
    expect(err.details).toMatchObject({ expectedVersion: 1, currentVersion: 2 });
    expect((await coffer.admin.secrets.values('db', { reveal: true })).values.password).toBe(planted);
    // One write at a time: each starts only when awaited, so no rejection goes unobserved.
    for (const write of [
      () => coffer.admin.secrets.updateMetadata('db', { description: 'x' }, { ifVersion: 1 }),
      () => coffer.admin.secrets.rename('db', 'db2', { ifVersion: 1 }),
      () => coffer.admin.secrets.rollback('db', 1, { ifVersion: 1 }),
    ]) {
      expect((await failure(write())).status).toBe(412);
    }
  });

  it('412 for a metadata write when anything changed since the read (ifRevision)', async () => {
    const read = await coffer.admin.secrets.get('db');
    const first = await coffer.admin.secrets.updateMetadata(
      'db',
      { labels: { team: 'a' } },
      { ifVersion: read.currentVersion, ifRevision: read.revision },
    );
    expect(first.revision).toBe(read.revision + 1);
    const err = await failure(
      coffer.admin.secrets.updateMetadata(
        'db',
        { labels: { team: 'b' } },
        { ifVersion: read.currentVersion, ifRevision: read.revision },
      ),
    );
    expect(err).toMatchObject({ status: 412, code: 'version_conflict' });
    expect(err.details).toMatchObject({ expectedRevision: read.revision, currentRevision: first.revision });
    expect((await coffer.admin.secrets.get('db')).labels).toEqual({ team: 'a' });
    await expect(coffer.admin.secrets.rename('db', 'x', { ifRevision: 1 })).rejects.toThrow(TypeError);
  });

  it('422 validation, with issues naming each field', async () => {
    const err = await failure(
      coffer.admin.secrets.create({ name: 'mail', kind: 'smtp', values: { host: 'h', port: 'not a port' } }),
    );
    expect(err).toMatchObject({ status: 422, code: 'validation' });
    expect(err.issues?.map((i) => i.path)).toContain('values.port');
    const unknownField = await failure(
      coffer.admin.request('POST /secrets', {
        body: { name: 'x', kind: 'generic', values: {}, colour: 'blue' } as never,
      }),
    );
    expect(unknownField.issues?.[0]?.message).toMatch(/colour|unrecognized|unknown/i);
  });

  it('createMany: one outcome per secret, a failed one carrying the error a create would throw', async () => {
    const outcomes = await coffer.admin.secrets.createMany([
      { name: 'many-1', kind: 'generic', values: { a: '1' } },
      { name: 'many-2', kind: 'smtp', values: { host: 'h', port: 'not a port' } },
    ]);
    expect(outcomes[0]).toMatchObject({ name: 'many-1', created: true, secret: { name: 'many-1' } });
    const failed = outcomes[1]!;
    if (failed.created) throw new Error('many-2 should not have been created');
    expect(isCofferApiError(failed.error, 'validation')).toBe(true);
    expect(failed.error.status).toBe(422);
    expect(failed.error.issues?.map((i) => i.path)).toContain('values.port');
  });

  it('428 precondition_required without the confirmation', async () => {
    const err = await failure(coffer.admin.secrets.deleteAll({ confirm: 'nope' as 'delete-all' }));
    expect(err).toMatchObject({ status: 428, code: 'precondition_required' });
  });

  it('a bad ifVersion is refused before anything is sent', async () => {
    await expect(coffer.admin.secrets.updateValues('db', { values: {} }, { ifVersion: 0 })).rejects.toThrow(
      TypeError,
    );
  });
});
