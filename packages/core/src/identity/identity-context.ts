import { type RawBuilder, sql } from 'kysely';
import type { z } from 'zod';
import { auditEntry } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditAction, AuditDetails, AuditEntry } from '../audit/audit-types.js';
import { CofferError } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import type { Logger } from '../logging/logger.js';
import { type Clock, isoNow } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import type { Actor, ResolvedActor } from './actor.js';
import { resolveActorIn } from './actor-resolver.js';
import type { IdentityCache } from './identity-cache.js';
import type { PasswordHasher } from './password-hasher.js';
import type { PasswordLoginPolicy } from './sso-types.js';

/** Session lifetimes, in seconds. */
export interface SessionPolicy {
  /** Absolute lifetime of a session when `createSession` names none. */
  ttlSeconds: number;
  /** The longest lifetime `createSession` accepts. */
  maxTtlSeconds: number;
  /** A session unused for this long ends. */
  idleTimeoutSeconds: number;
}

/** What the parts of the identity service share; internal to `identity/`. */
export interface IdentityContext {
  database: CofferDatabase;
  clock: Clock;
  audit: Pick<AuditLog, 'append' | 'appendStandalone'>;
  logger: Logger;
  hasher: PasswordHasher;
  sessions: SessionPolicy;
  /** Who tokens and users are, cached briefly; every identity change clears both. */
  caches: IdentityCaches;
  /** Who may log in with a password (`all` unless single sign-on says otherwise). */
  passwordLogin: PasswordLoginPolicy;
}

/** The identity lookups a request would otherwise repeat. */
export interface IdentityCaches {
  /** By `<principal type>:<id>`: the actor as resolved (its request context left out). */
  actors: IdentityCache<ResolvedActor>;
  /** By token hash: the token's id and when its last-used time was last written. */
  tokens: IdentityCache<{ id: string; touchedMs: number }>;
}

/** Last-used and last-seen times are written at most this often, not on every request. */
export const touchIntervalMs = 60_000;

/**
 * Thrown inside an operation's transaction when the caller is not allowed. The runner
 * records the attempt after the transaction has ended (a denied attempt changes nothing, and
 * on SQLite a second transaction cannot start while the first holds the connection).
 */
class Denial extends Error {
  constructor(
    readonly error: CofferError,
    readonly entry: AuditEntry | undefined,
  ) {
    super(error.message);
  }
}

/** Refuses the operation with `forbidden`, recording the attempt when `action` is given. */
export function deny(
  resolved: ResolvedActor,
  message: string,
  audit?: { action: AuditAction; target?: AuditEntry['target']; details?: AuditDetails },
): never {
  const entry =
    audit === undefined
      ? undefined
      : auditEntry(resolved, audit.action, 'denied', audit.target, { ...audit.details, reason: message });
  throw new Denial(new CofferError('forbidden', message), entry);
}

/**
 * Runs a changing operation: one transaction that resolves the actor, checks, changes and
 * audits, so the check and the change see the same state and the record commits with it.
 */
export { auditEntry };

export async function runAs<T>(
  context: IdentityContext,
  actor: Actor,
  fn: (tx: Tx, resolved: ResolvedActor, now: string) => Promise<T>,
): Promise<T> {
  try {
    return await inTransaction(context.database, async (tx) => {
      const now = isoNow(context.clock);
      return fn(tx, await resolveActorIn(tx, actor, now), now);
    });
  } catch (err) {
    if (!(err instanceof Denial)) throw err;
    if (err.entry !== undefined) {
      try {
        await context.audit.appendStandalone(err.entry);
      } catch (auditError) {
        // The caller is refused either way; the missing record must not go unnoticed.
        context.logger.error(
          { err: auditError, action: err.entry.action },
          'could not audit a denied attempt',
        );
      }
    }
    throw err.error;
  }
}

/** Runs a read: the actor is resolved on the same connection, without a transaction. */
export async function readAs<T>(
  context: IdentityContext,
  actor: Actor,
  fn: (resolved: ResolvedActor, now: string) => Promise<T>,
): Promise<T> {
  try {
    const now = isoNow(context.clock);
    return await fn(await resolveActorIn(context.database.db, actor, now), now);
  } catch (err) {
    if (err instanceof Denial) throw err.error;
    throw err;
  }
}

/** Group actors stand for server-side consumers of secrets; they administer nothing. */
export function requirePerson(resolved: ResolvedActor, audit?: Parameters<typeof deny>[2]): void {
  if (resolved.type === 'group') deny(resolved, 'a group actor may only use secrets', audit);
}

/** Changes need read-write: a read-only token changes nothing, whoever owns it. */
export function requireWrite(resolved: ResolvedActor, audit?: Parameters<typeof deny>[2]): void {
  requirePerson(resolved, audit);
  if (resolved.scope !== 'read-write') deny(resolved, 'a read-only token cannot make changes', audit);
}

export function isAdmin(resolved: ResolvedActor): boolean {
  return resolved.type !== 'group' && resolved.role === 'admin';
}

/** Admin-only changes. */
export function requireAdminWrite(
  resolved: ResolvedActor,
  what: string,
  audit?: Parameters<typeof deny>[2],
): void {
  requireWrite(resolved, audit);
  if (!isAdmin(resolved)) deny(resolved, `only admins may ${what}`, audit);
}

/** Parses input with a zod schema; problems become one `validation` error naming every field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw CofferError.validation(fieldIssuesFromZod(result.error));
  return result.data;
}

/**
 * A case-insensitive prefix match on a column. `!` escapes LIKE's wildcards because it needs
 * no escaping itself in any dialect's string literals (a backslash does in MySQL and not in
 * PostgreSQL).
 */
export function prefixMatch(column: string, prefix: string): RawBuilder<boolean> {
  const pattern = `${prefix.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '!'`;
}

/** An ISO timestamp `ms` milliseconds after `iso`. */
export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}
