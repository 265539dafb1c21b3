import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import type { CofferDatabase } from './database.js';
import type { DialectName } from './dialect.js';
import { initialMigration } from './migrations/0001-initial.js';
import { identityIndexesMigration } from './migrations/0002-identity-indexes.js';
import { backendMigrationMigration } from './migrations/0003-backend-migration.js';
import { secretRevisionMigration } from './migrations/0004-secret-revision.js';
import { shareLinksMigration } from './migrations/0005-share-links.js';
import { replicasMigration } from './migrations/0006-replicas.js';
import { ssoMigration } from './migrations/0007-sso.js';
import { remindersMigration } from './migrations/0008-reminders.js';
import { runRateMigration } from './migrations/0009-run-rate.js';
import { nameLookupMigration } from './migrations/0010-name-lookup.js';
import { fewerBtreesMigration } from './migrations/0011-fewer-btrees.js';
import { auditTimePagesMigration } from './migrations/0012-audit-time-pages.js';
import { nameFirstUniqueMigration } from './migrations/0013-name-first-unique.js';

/** Schema migrations in order. Names sort lexically; never rename or reorder a shipped one. */
function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-identity-indexes': identityIndexesMigration(),
    '0003-backend-migration': backendMigrationMigration(dialect),
    '0004-secret-revision': secretRevisionMigration(),
    '0005-share-links': shareLinksMigration(dialect),
    '0006-replicas': replicasMigration(dialect),
    '0007-sso': ssoMigration(dialect),
    '0008-reminders': remindersMigration(dialect),
    '0009-run-rate': runRateMigration(),
    '0010-name-lookup': nameLookupMigration(),
    '0011-fewer-btrees': fewerBtreesMigration(dialect),
    '0012-audit-time-pages': auditTimePagesMigration(dialect),
    '0013-name-first-unique': nameFirstUniqueMigration(dialect),
  };
}

/**
 * Brings the schema up to date. Safe to call from several processes at once: Kysely's
 * migrator holds a lock table while it runs, so replicas sharing one database migrate once.
 */
export async function migrateToLatest(database: CofferDatabase): Promise<void> {
  await migrate(database, (migrator) => migrator.migrateToLatest());
}

/** Up to and including the named migration only: for tests of a later migration's upgrade. */
export async function migrateUpTo(database: CofferDatabase, name: string): Promise<void> {
  await migrate(database, (migrator) => migrator.migrateTo(name));
}

async function migrate(
  database: CofferDatabase,
  run: (migrator: Migrator) => ReturnType<Migrator['migrateToLatest']>,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(database.dialect) };
  // Migrations are written to be independent of one another (each adds its own tables or
  // columns), so a database that already ran a later one still takes an earlier one that
  // arrived afterwards, instead of refusing to start.
  const migrator = new Migrator({ db: database.db, provider, allowUnorderedMigrations: true });
  const { error, results } = await run(migrator);
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  if (failed !== undefined) {
    throw new CofferError('internal', `database migration ${failed} failed`, { cause: error });
  }
  // No migration ran: the database could not be reached, or refused the login or the database
  // name. The driver's reason (it never holds the password) is what the operator needs.
  const e = error as { code?: unknown; message?: unknown } | null;
  const reason = [
    typeof e?.code === 'string' ? e.code : undefined,
    String(e?.message ?? error).split('\n')[0],
  ]
    .filter((x) => x !== undefined && x !== '')
    .join(': ');
  throw new CofferError(
    'internal',
    `cannot use the database ${database.displayUrl} (check COFFER_DATABASE_URL / database.url): ${reason}`,
    { cause: error },
  );
}
