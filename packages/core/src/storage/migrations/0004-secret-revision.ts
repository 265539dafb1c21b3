import type { Kysely } from 'kysely';

/**
 * `secrets.revision`: counts every change of a secret's record (values, description, labels,
 * name, deletion and restore), so check-and-set on metadata can tell that someone else changed
 * the description or labels since a client read them. Values versions only count value changes.
 */
export function secretRevisionMigration() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('secrets')
        .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
    },
  };
}
