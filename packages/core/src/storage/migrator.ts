import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import type { CofferDatabase } from './database.js';
import type { DialectName } from './dialect.js';
import { initialMigration } from './migrations/0001-initial.js';
import { identityIndexesMigration } from './migrations/0002-identity-indexes.js';
import { backendMigrationMigration } from './migrations/0003-backend-migration.js';

/** Schema migrations in order. Names sort lexically; never rename or reorder a shipped one. */
function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-identity-indexes': identityIndexesMigration(),
    '0003-backend-migration': backendMigrationMigration(dialect),
  };
}

/**
 * Brings the schema up to date. Safe to call from several processes at once: Kysely's
 * migrator holds a lock table while it runs, so replicas sharing one database migrate once.
 */
export async function migrateToLatest(database: CofferDatabase): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(database.dialect) };
  const migrator = new Migrator({ db: database.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new CofferError('internal', `database migration ${failed} failed`, { cause: error });
  }
}
