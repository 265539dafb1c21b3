import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';
import { rebuildSqliteTable } from './sqlite-rebuild.js';

/**
 * One index keyed by name fewer on `secrets` (docs/performance.md, "Name first in the unique
 * index").
 *
 * A live secret's name is unique per owner: `unique (owner_id, live_name)`. Lookups by name
 * alone (every reference by name, the name check of every create) needed a second index,
 * `secrets_live_name` (migration 0010). With the unique index's columns the other way round,
 * `unique (live_name, owner_id)`, that lookup is a seek on its first column, so the second
 * index goes. Names seldom arrive in order, so each index keyed by name costs a create a page
 * of its own in the commit; a create, a rename, a delete and a restore now write one fewer.
 * The owner's secrets (what a member may list) were found through the old unique index's first
 * column, so `secrets_owner` takes that over: keyed by owner, a new secret's entry goes next to
 * the owner's previous one, on a page the other creates of a group commit change too.
 *
 * - SQLite cannot change a table's constraint in place: the table is rebuilt from its own
 *   DDL with the constraint rewritten, in one transaction (as migration 0011 does).
 * - PostgreSQL: the new constraint is added, the old one and the index dropped and the owner's
 *   index made, in the migration's transaction.
 * - MySQL and MariaDB: one `alter table`, which InnoDB applies whole or not at all.
 */
export function nameFirstUniqueMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`alter table secrets add constraint secrets_live_name_owner unique (live_name, owner_id)`.execute(
          db,
        );
        await sql`alter table secrets drop constraint secrets_owner_live_name`.execute(db);
        await db.schema.dropIndex('secrets_live_name').execute();
        await ownerIndex(db);
        return;
      }
      if (dialect === 'mysql') {
        await sql`alter table secrets
          add constraint secrets_live_name_owner unique (live_name, owner_id),
          drop index secrets_owner_live_name,
          drop index secrets_live_name,
          add index secrets_owner (owner_id)`.execute(db);
        return;
      }
      // SQLite: Kysely runs its migrations outside a transaction there; a rebuild must never
      // be left half done. The index is dropped first, so the rebuild does not make it again.
      await db.transaction().execute(async (trx) => {
        await trx.schema.dropIndex('secrets_live_name').execute();
        await rebuildSqliteTable(trx, 'secrets', (ddl) =>
          ddl.replace(
            'constraint "secrets_owner_live_name" unique ("owner_id", "live_name")',
            'constraint "secrets_live_name_owner" unique ("live_name", "owner_id")',
          ),
        );
        await ownerIndex(trx);
      });
    },
  };
}

async function ownerIndex(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('secrets_owner').on('secrets').column('owner_id').execute();
}
