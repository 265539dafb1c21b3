import { randomUUID } from 'node:crypto';
import { type Clock, isoNow } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import { isUniqueViolation } from '../storage/sql-errors.js';

/**
 * This deployment's id: made on first start and kept in the database, so every replica sharing
 * the database (and every restart) agrees on it. Backends with the `labels` capability mark the
 * values they store with it and refuse values another deployment marked.
 *
 * @example
 * const deploymentId = await ensureDeploymentId(database, clock);
 */
export async function ensureDeploymentId(database: CofferDatabase, clock: Clock): Promise<string> {
  const { db } = database;
  const read = () =>
    db.selectFrom('deployment').select('deployment_id').where('id', '=', 1).executeTakeFirst();
  const existing = await read();
  if (existing !== undefined) return existing.deployment_id;
  try {
    await db
      .insertInto('deployment')
      .values({ id: 1, deployment_id: randomUUID(), created_at: isoNow(clock) })
      .execute();
  } catch (err) {
    // Another replica made it first; its id wins.
    if (!isUniqueViolation(err)) throw err;
  }
  return (await read())!.deployment_id;
}
