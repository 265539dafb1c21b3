import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { wrappedMemoryBackend } from '../test-support/wrapped-memory-backend.js';

/** A memory backend whose put can be held after storing, like a store that answers late. */
function slowBackend() {
  const gate: { held?: Promise<void>; reached?: () => void } = {};
  const definition = wrappedMemoryBackend('slow', (inner) => ({
    async put(ref, values) {
      await inner.put(ref, values);
      if (gate.held !== undefined) {
        gate.reached?.();
        await gate.held;
      }
    },
  }));
  return { definition, gate };
}

await describeEachDialect('a write slower than its lease', (dialect) => {
  it('does not commit a version whose value a takeover undid: it writes the value again, then commits', async () => {
    const slow = slowBackend();
    const fx = await createCofferFixture(
      dialect,
      { backends: { slow: { type: 'slow', store: `slow-${randomUUID()}` } }, backend: 'slow' },
      { backendDefinitions: [slow.definition] },
    );
    try {
      const { coffer, admin } = fx;
      const secret = await coffer.secrets.create(admin.actor, {
        name: 'tok',
        kind: 'api-token',
        values: { token: 'v1' },
      });
      let release = () => {};
      slow.gate.held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const reached = new Promise<void>((resolve) => {
        slow.gate.reached = resolve;
      });
      const update = coffer.secrets.update(admin.actor, secret.id, { values: { token: 'v2' } });
      const outcome = update.then(
        () => 'committed',
        (err: unknown) => err,
      );
      await reached;
      fx.time.advance(61); // past the 60-second write lease
      expect(await coffer.maintenance.reconcile()).toMatchObject({ undone: 1 });
      slow.gate.held = undefined;
      release();
      // The takeover made the write's commit fail; it wrote its value again and committed that.
      expect(await outcome).toBe('committed');
      const now = await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true });
      expect(now).toMatchObject({ version: 2, values: { token: 'v2' } });
      const next = await coffer.secrets.update(admin.actor, secret.id, { values: { token: 'v3' } });
      expect(next.currentVersion).toBe(3);
      expect(
        (await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).values,
      ).toMatchObject({
        token: 'v3',
      });
    } finally {
      await fx.close();
    }
  });
});
