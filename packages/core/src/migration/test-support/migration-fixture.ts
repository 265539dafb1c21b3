import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ValueRef } from '../../backends/backend.js';
import type { Coffer } from '../../coffer.js';
import type { Actor } from '../../identity/actor.js';
import type { SecretValues } from '../../kinds/kind-types.js';
import { isoNow } from '../../shared/clock.js';
import type { SecretRow, SecretVersionRow } from '../../storage/schema.js';

/** The values seeded secrets hold at each version, computable from the secret's index alone. */
export function seededValues(index: number, version: number): SecretValues {
  return { token: `seeded-${index}-v${version}`, index, even: index % 2 === 0 };
}

/** How many versions seeded secret `index` has. */
export function seededVersions(index: number): number {
  return 1 + (index % 3);
}

export interface SeededSecret {
  id: string;
  index: number;
  versions: number;
}

/**
 * Many secrets fast: metadata rows written in bulk and values put through the active backend,
 * without the audit log (what a migration does not look at). Values follow {@link seededValues}.
 */
export async function seedSecrets(
  coffer: Coffer,
  ownerId: string,
  options: { count: number; prefix: string; deletedEvery?: number },
): Promise<SeededSecret[]> {
  const { db } = coffer.database;
  const backend = coffer.backends.active;
  const now = isoNow(() => new Date());
  const seeded: SeededSecret[] = [];
  const batch = 200;
  for (let start = 0; start < options.count; start += batch) {
    const rows: SecretRow[] = [];
    const versionRows: SecretVersionRow[] = [];
    const refs: { ref: ValueRef; index: number }[] = [];
    for (let index = start; index < Math.min(options.count, start + batch); index++) {
      const id = randomUUID();
      const versions = seededVersions(index);
      const deleted = options.deletedEvery !== undefined && index % options.deletedEvery === 0;
      const name = `${options.prefix}-${String(index).padStart(6, '0')}`;
      rows.push({
        id,
        owner_id: ownerId,
        name,
        live_name: deleted ? null : name,
        kind: 'generic',
        description: '',
        current_version: versions,
        backend: backend.name,
        created_at: now,
        updated_at: now,
        created_by: ownerId,
        updated_by: ownerId,
        deleted_at: deleted ? now : null,
        purge_after: deleted ? '9999-12-31T00:00:00.000Z' : null,
      });
      for (let version = 1; version <= versions; version++) {
        versionRows.push({
          secret_id: id,
          version,
          created_at: now,
          created_by: ownerId,
          changed_fields: '["token"]',
          rollback_of: null,
        });
        refs.push({ ref: { secretId: id, version }, index });
      }
      seeded.push({ id, index, versions });
    }
    await Promise.all(refs.map(({ ref, index }) => backend.put(ref, seededValues(index, ref.version))));
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('secrets').values(rows).execute();
      await tx.insertInto('secret_versions').values(versionRows).execute();
    });
  }
  return seeded;
}

/** Every ref a backend holds, in order. */
export async function refsIn(coffer: Coffer, backendName: string): Promise<string[]> {
  const backend = coffer.backends.get(backendName)!;
  const keys: string[] = [];
  let after: ValueRef | undefined;
  for (;;) {
    const page = await backend.list({ limit: 1000, ...(after === undefined ? {} : { after }) });
    keys.push(...page.map((r) => `${r.secretId}@${r.version}`));
    if (page.length < 1000) return keys;
    after = page[page.length - 1];
  }
}

/**
 * The store is consistent: every backend holds exactly the versions the metadata says it
 * holds (plus recorded kept copies), nothing else; the journal is empty. Reconciles first.
 */
export async function assertNoOrphans(coffer: Coffer, backendNames: readonly string[]): Promise<void> {
  // Journal rows carry the time of whichever process wrote them (a test clock may stand
  // still behind them); nothing is in flight now, so every row is due.
  await coffer.maintenance.reconcile({ olderThanMs: -86_400_000 });
  const { db } = coffer.database;
  expect(await db.selectFrom('value_journal').selectAll().execute()).toEqual([]);
  const referenced = await db
    .selectFrom('secret_versions')
    .innerJoin('secrets', 'secrets.id', 'secret_versions.secret_id')
    .select(['secrets.backend', 'secret_versions.secret_id', 'secret_versions.version'])
    .execute();
  const kept = await db.selectFrom('migration_kept_values').selectAll().execute();
  for (const name of backendNames) {
    const expected = [
      ...referenced.filter((r) => r.backend === name),
      ...kept.filter((k) => k.backend === name),
    ]
      .map((r) => `${r.secret_id}@${r.version}`)
      .sort();
    const actual = (await refsIn(coffer, name)).sort();
    expect(actual.length, `refs in backend ${name}`).toBe(expected.length);
    expect(actual, `refs in backend ${name}`).toEqual(expected);
  }
}

/** Every version of every seeded secret reads back as seeded (through the secrets service). */
export async function assertSeededReadable(
  coffer: Coffer,
  actor: Actor,
  seeded: readonly SeededSecret[],
  sample = seeded.length,
): Promise<void> {
  const step = Math.max(1, Math.floor(seeded.length / sample));
  for (let i = 0; i < seeded.length; i += step) {
    const s = seeded[i]!;
    for (let version = 1; version <= s.versions; version++) {
      const values = await coffer.backends
        .require(
          (
            await coffer.database.db
              .selectFrom('secrets')
              .select('backend')
              .where('id', '=', s.id)
              .executeTakeFirstOrThrow()
          ).backend,
        )
        .get({ secretId: s.id, version });
      expect(values, `secret ${s.index} version ${version}`).toStrictEqual(seededValues(s.index, version));
    }
  }
  // and through the service, with its access checks and audit, for a few
  for (const s of seeded.slice(0, 20)) {
    const row = await coffer.database.db
      .selectFrom('secrets')
      .select('deleted_at')
      .where('id', '=', s.id)
      .executeTakeFirstOrThrow();
    if (row.deleted_at !== null) continue;
    const view = await coffer.secrets.readValues(actor, s.id, { reveal: true, version: 1 });
    expect(view.values).toStrictEqual(seededValues(s.index, 1));
  }
}

/** How many secrets each backend holds, by name. */
export async function secretsPerBackend(coffer: Coffer): Promise<Record<string, number>> {
  const rows = await coffer.database.db
    .selectFrom('secrets')
    .select(['backend', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
    .groupBy('backend')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.backend, Number(r.n)]));
}
