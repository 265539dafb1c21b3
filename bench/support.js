// Small helpers shared by the benchmarks.
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Runs `fn(i)` n times (awaiting it when it returns a promise) and returns the rate.
 * Sync functions stay sync, so the raw baselines are not slowed by await.
 */
export function time(n, fn) {
  const start = process.hrtime.bigint();
  const first = fn(0);
  if (first && typeof first.then === 'function') {
    return (async () => {
      await first;
      for (let i = 1; i < n; i++) await fn(i);
      return result(n, start);
    })();
  }
  for (let i = 1; i < n; i++) fn(i);
  return result(n, start);
}

function result(n, start) {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { n, seconds, opsPerSecond: n / seconds };
}

/** Prints rows as an aligned text table. */
export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Secrets written straight into the tables (one version each), values through the sql backend. */
export async function seedSqlSecrets(coffer, ownerId, count) {
  const { db } = coffer.database;
  const sql = coffer.backends.get('sql');
  const now = new Date().toISOString();
  const refs = [];
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const id = randomUUID();
      const name = `secret-${String(i).padStart(7, '0')}`;
      rows.push({
        id,
        owner_id: ownerId,
        name,
        live_name: name,
        kind: 'api-token',
        description: '',
        current_version: 1,
        backend: 'sql',
        created_at: now,
        updated_at: now,
        created_by: ownerId,
        updated_by: ownerId,
        deleted_at: null,
        purge_after: null,
      });
      refs.push({ secretId: id, version: 1 });
    }
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('secrets').values(rows).execute();
      await tx
        .insertInto('secret_versions')
        .values(
          rows.map((r) => ({
            secret_id: r.id,
            version: 1,
            created_at: now,
            created_by: ownerId,
            changed_fields: '["token"]',
            rollback_of: null,
          })),
        )
        .execute();
    });
    const batch = refs.slice(start);
    await pool(batch, 16, (ref) => sql.put(ref, { token: randomBytes(24).toString('base64') }));
  }
  return refs;
}

export async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
