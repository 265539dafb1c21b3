import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditEntry } from '../audit/audit-types.js';
import { isoNow } from '../shared/clock.js';
import type { CofferTables } from '../storage/schema.js';
import { inTransaction } from '../storage/transaction.js';
import { systemGroupName } from './group-service.js';
import type { IdentityContext } from './identity-context.js';
import type { BootstrapOptions, BootstrapResult } from './identity-types.js';
import { assertPasswordPolicy, generatePassword } from './password-hasher.js';

/** The first admin's username. */
export const bootstrapAdminUsername = 'admin';

/** Bootstrap acts before anyone exists, so its records name Coffer itself. */
const systemActor = {
  actor: { type: 'system', name: 'bootstrap' },
  source: 'system',
} as const satisfies Pick<AuditEntry, 'actor' | 'source'>;

/**
 * Creates the builtin `system` group and the first admin on an empty database. Safe to run
 * on every start and from several processes at once: exactly one run creates the admin.
 */
export async function bootstrapIdentity(
  context: IdentityContext,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const { database, audit, hasher, logger } = context;
  if (options.adminPassword !== undefined) assertPasswordPolicy(options.adminPassword, 'adminPassword');
  if ((await hasUsers(database.db)) && (await hasSystemGroup(database.db))) return { created: false };

  const password = options.adminPassword ?? generatePassword();
  const passwordHash = await hasher.hash(password);
  let created: boolean;
  try {
    created = await inTransaction(database, async (tx) => {
      const now = isoNow(context.clock);
      if (!(await hasSystemGroup(tx))) {
        const id = randomUUID();
        await tx
          .insertInto('groups')
          .values({
            id,
            name: systemGroupName,
            description:
              "Coffer's own features (e.g. the mail sender) use the secrets shared with this group.",
            builtin: 1,
            created_at: now,
          })
          .execute();
        await audit.append(tx, {
          ...systemActor,
          action: 'group.create',
          outcome: 'success',
          target: { type: 'group', id, name: systemGroupName },
          details: { builtin: true },
        });
      }
      if (await hasUsers(tx)) return false;
      const id = randomUUID();
      await tx
        .insertInto('users')
        .values({
          id,
          username: bootstrapAdminUsername,
          display_name: 'Administrator',
          email: null,
          type: 'user',
          role: 'admin',
          disabled: 0,
          password_hash: passwordHash,
          created_at: now,
          updated_at: now,
          last_login_at: null,
        })
        .execute();
      await audit.append(tx, {
        ...systemActor,
        action: 'user.create',
        outcome: 'success',
        target: { type: 'user', id, name: bootstrapAdminUsername },
        details: {
          role: 'admin',
          type: 'user',
          bootstrap: true,
          generatedPassword: options.adminPassword === undefined,
        },
      });
      return true;
    });
  } catch (err) {
    // Another process bootstrapped at the same moment: its insert won (a unique violation or a
    // lost lock here, depending on the dialect), and the database is no longer empty.
    if ((await hasUsers(database.db)) && (await hasSystemGroup(database.db))) return { created: false };
    throw err;
  }
  if (!created) return { created: false };
  logger.info({ username: bootstrapAdminUsername }, 'created the first admin');
  return { created: true, username: bootstrapAdminUsername, password };
}

async function hasUsers(db: Kysely<CofferTables>): Promise<boolean> {
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

async function hasSystemGroup(db: Kysely<CofferTables>): Promise<boolean> {
  const row = await db
    .selectFrom('groups')
    .select('id')
    .where('name', '=', systemGroupName)
    .executeTakeFirst();
  return row !== undefined;
}
