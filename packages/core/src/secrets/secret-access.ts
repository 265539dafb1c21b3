import {
  allows,
  canSee,
  type EffectiveAccess,
  effectiveAccess,
  type SecretOperation,
  secretOperationLevels,
} from '../access/access-policy.js';
import { auditEntry } from '../audit/audit-entry.js';
import type { AuditAction, AuditEntry } from '../audit/audit-types.js';
import { CofferError } from '../errors/coffer-error.js';
import type { ResolvedActor } from '../identity/actor.js';
import type { SecretRow } from '../storage/schema.js';
import type { Tx } from '../storage/transaction.js';
import { looksLikeId } from './secret-names.js';
import {
  findSecretsWithSharesByName,
  findSecretWithSharesById,
  type Queryable,
  type SecretWithShares,
} from './secret-store.js';

/** Where the audit log takes records: inside a change's transaction, or on its own. */
export interface AuditWriter {
  /** Resolves with the record's position, which the change's event takes. */
  append(tx: Tx, entry: AuditEntry): Promise<{ seq: number; at: string }>;
  appendStandalone(entry: AuditEntry): Promise<unknown>;
}

/** The audit action a denied attempt at an operation is recorded under. */
export const auditActionOf = {
  use: 'secret.use',
  test: 'secret.test',
  get: 'secret.read',
  readValues: 'secret.read',
  reveal: 'secret.reveal',
  versions: 'secret.read',
  listShares: 'secret.read',
  createShareLink: 'share_link.create',
  listShareLinks: 'secret.read',
  update: 'secret.update',
  updateMetadata: 'secret.update_metadata',
  rename: 'secret.rename',
  rollback: 'secret.rollback',
  destroyVersions: 'secret.destroy_versions',
  share: 'share.grant',
  unshare: 'share.revoke',
  revokeShareLink: 'share_link.revoke',
  delete: 'secret.delete',
  restore: 'secret.restore',
  purge: 'secret.purge',
} as const satisfies Record<SecretOperation, AuditAction>;

/** The audit record of something an actor did to a secret. */
export function secretAudit(
  who: ResolvedActor,
  action: AuditAction,
  secret: Pick<SecretRow, 'id' | 'name'> | { id?: string; name?: string },
  extra: Partial<Pick<AuditEntry, 'outcome' | 'purpose' | 'details'>> = {},
): AuditEntry {
  const target: AuditEntry['target'] = {
    type: 'secret',
    ...(secret.id === undefined ? {} : { id: secret.id }),
    ...(secret.name === undefined ? {} : { name: secret.name }),
  };
  const entry = auditEntry(who, action, extra.outcome ?? 'success', target, extra.details);
  return extra.purpose === undefined ? entry : { ...entry, purpose: extra.purpose };
}

export interface Authorized {
  row: SecretRow;
  access: EffectiveAccess;
  /** With `withValue`: the sealed current version, as `SecretWithShares.sealedCurrent`. */
  sealedCurrent?: Uint8Array | null;
}

/**
 * Finds the secret an actor names (by id, or by name: the actor's own first, then the one
 * other secret of that name it can see) and checks the operation against its access.
 * A secret the actor cannot see is `not_found`, exactly like one that does not exist; one it
 * can see but not act on is `forbidden`. Both denials are audited.
 */
export async function authorize(
  db: Queryable,
  audit: AuditWriter,
  who: ResolvedActor,
  ref: string,
  operation: SecretOperation,
  state: 'live' | 'deleted' | 'any' = 'live',
  /** Also read the sealed current version in the same statement (a reveal about to open it). */
  withValue = false,
): Promise<Authorized> {
  const found = await find(db, who, ref, state, withValue);
  const notFound = () => new CofferError('not_found', `secret "${ref}" not found`);
  if (found === undefined) throw notFound();
  const { row, access } = found;
  if (!allows(access, operation)) {
    await audit.appendStandalone(
      secretAudit(who, auditActionOf[operation], row, { outcome: 'denied', details: { operation } }),
    );
    if (!canSee(access)) throw notFound();
    throw new CofferError(
      'forbidden',
      `${operation} needs ${secretOperationLevels[operation]} on secret "${row.name}"`,
      {
        details: { held: access.level },
      },
    );
  }
  return found;
}

async function find(
  db: Queryable,
  who: ResolvedActor,
  ref: string,
  state: 'live' | 'deleted' | 'any',
  withValue: boolean,
): Promise<Authorized | undefined> {
  const stateMatches = (row: SecretRow) =>
    state === 'any' || (state === 'live' ? row.deleted_at === null : row.deleted_at !== null);
  const decide = ({ row, shares, sealedCurrent }: SecretWithShares): Authorized =>
    sealedCurrent === undefined
      ? { row, access: effectiveAccess(who, row.owner_id, shares) }
      : { row, access: effectiveAccess(who, row.owner_id, shares), sealedCurrent };
  // The secret and its shares are read in one statement, so the decision is made on the shares
  // as they are now (nothing is cached), at one round trip.
  if (looksLikeId(ref)) {
    const found = await findSecretWithSharesById(db, ref.toLowerCase(), withValue);
    if (found === undefined || !stateMatches(found.row)) return undefined;
    return decide(found);
  }
  const candidates =
    state === 'any'
      ? [
          ...(await findSecretsWithSharesByName(db, ref, 'live')),
          ...(await findSecretsWithSharesByName(db, ref, 'deleted')),
        ]
      : await findSecretsWithSharesByName(db, ref, state, withValue);
  if (candidates.length === 0) return undefined;
  const own = candidates.find((c) => c.row.owner_id === who.id);
  if (own !== undefined) return decide(own);
  const visible = candidates.map(decide).filter((c) => canSee(c.access));
  if (visible.length > 1) {
    throw new CofferError(
      'conflict',
      `several secrets named "${ref}" are visible to you; name one by its id`,
      {
        details: { ids: visible.map((c) => c.row.id) },
      },
    );
  }
  return visible[0];
}
