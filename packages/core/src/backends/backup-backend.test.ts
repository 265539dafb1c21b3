import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { CofferError, isCofferError } from '../errors/coffer-error.js';
import { createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { wrappedMemoryBackend } from '../test-support/wrapped-memory-backend.js';

/** A memory backend that can be switched to fail every call, like a store that went away. */
function breakableBackend() {
  const state = { down: false };
  const definition = wrappedMemoryBackend('breakable', (inner) => {
    const guard = <T>(fn: () => Promise<T>) =>
      state.down ? Promise.reject(new CofferError('backend_unavailable', 'the store is down')) : fn();
    return {
      put: (ref, values) => guard(() => inner.put(ref, values)),
      get: (ref) => guard(() => inner.get(ref)),
      delete: (ref) => guard(() => inner.delete(ref)),
      list: (options) => guard(() => inner.list(options)),
    };
  });
  return { definition, state };
}

await describeEachDialect('backup backend', (dialect) => {
  it('gets every write, serves reads when the active backend fails, and loses deletes to neither', async () => {
    const primary = breakableBackend();
    const fx = await createCofferFixture(
      dialect,
      {
        backends: {
          main: { type: 'breakable', store: `main-${randomUUID()}` },
          mirror: { type: 'memory', store: `mirror-${randomUUID()}` },
        },
        backend: 'main',
        backup: 'mirror',
        versions: { keep: 2 },
      },
      { backendDefinitions: [primary.definition] },
    );
    try {
      const { coffer, admin } = fx;
      const s = await coffer.secrets.create(admin.actor, {
        name: 'mirrored',
        kind: 'api-token',
        values: { token: 'v1' },
      });
      await coffer.secrets.update(admin.actor, s.id, { values: { token: 'v2' } });
      const main = coffer.backends.all().find((b) => b.name === 'main')!;
      const mirror = coffer.backends.get('mirror')!;
      expect(await main.list({ secretId: s.id })).toEqual(await mirror.list({ secretId: s.id }));
      expect((await mirror.list({ secretId: s.id })).length).toBe(2);

      primary.state.down = true;
      const view = await coffer.secrets.readValues(admin.actor, s.id, { reveal: true });
      expect(view.values.token).toBe('v2');
      expect(fx.logText()).toContain('served it from the backup');
      // a write needs the active backend
      const err = await coffer.secrets
        .update(admin.actor, s.id, { values: { token: 'v3' } })
        .catch((e: unknown) => e);
      expect(isCofferError(err, 'backend_unavailable')).toBe(true);
      primary.state.down = false;
      // the failed write could not undo its journal entry while the store was down; once its
      // lease ran out, the next write clears it
      fx.time.advance(61);

      // pruning (keep 2) deletes from both
      await coffer.secrets.update(admin.actor, s.id, { values: { token: 'v3' } });
      expect((await main.list({ secretId: s.id })).map((r) => r.version)).toEqual([2, 3]);
      expect((await mirror.list({ secretId: s.id })).map((r) => r.version)).toEqual([2, 3]);
      await coffer.secrets.purge(admin.actor, s.id);
      expect(await mirror.list({ secretId: s.id })).toEqual([]);

      const { instances } = await coffer.backends.describe(admin.actor);
      expect(instances.find((i) => i.name === 'mirror')).toMatchObject({ backup: true, active: false });
      expect(instances.find((i) => i.name === 'main')).toMatchObject({ backup: false, active: true });
      expect(fx.logText()).not.toContain('"v2"');
    } finally {
      await fx.close();
    }
  });

  it('must name another configured backend', async () => {
    const fx = await createCofferFixture(dialect);
    try {
      for (const [backup, message] of [
        ['nope', 'names no configured backend'],
        ['sql', 'must be another backend than the active one'],
      ] as const) {
        const err = (await fx.reopen({}, { backup }).catch((e: unknown) => e)) as CofferError;
        expect(isCofferError(err, 'invalid_config')).toBe(true);
        expect(err.details.issues).toEqual([{ path: 'backup', message: expect.stringContaining(message) }]);
      }
    } finally {
      await fx.close();
    }
  });
});
