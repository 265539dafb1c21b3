import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { AccessLevel } from '../access/access-level.js';
import type { ShareGrant } from '../access/access-policy.js';
import type { ResolvedActor } from '../identity/actor.js';
import type { CofferDatabase } from '../storage/database.js';
import { afterKeyset, type KeysetFeatures } from '../storage/keyset.js';
import { oncePer, paddedIn, perSize, preparedInsert, preparedQuery } from '../storage/prepared.js';
import type { CofferTables, SecretLabelRow, SecretRow } from '../storage/schema.js';
import { type ReachMemory, reachKey } from './reach-memory.js';
import type { Labels } from './secret-types.js';

/** Anything that runs queries: the database or a transaction. */
export type Queryable = Kysely<CofferTables>;

/** The share levels that let a holder see a secret in lists (`use` alone does not). */
export const visibleLevels: readonly AccessLevel[] = ['read', 'write', 'manage'];

export async function findSecretById(db: Queryable, id: string): Promise<SecretRow | undefined> {
  return db.selectFrom('secrets').select(secretColumns).where('id', '=', id).executeTakeFirst();
}

/** Live secrets with this name, or deleted ones (most recently deleted first). */
export async function findSecretsByName(
  db: Queryable,
  name: string,
  state: 'live' | 'deleted',
): Promise<SecretRow[]> {
  if (state === 'live') return (await accessReadsFor(db).live.execute(db, name)).rows;
  return db
    .selectFrom('secrets')
    .select(secretColumns)
    .where('name', '=', name)
    .where('deleted_at', 'is not', null)
    .orderBy('deleted_at', 'desc')
    .execute();
}

/** The live secrets holding any of `names`, as their name and owner (a batch's names, at most a few hundred). */
export async function liveSecretNames(
  db: Queryable,
  names: readonly string[],
): Promise<{ name: string; owner_id: string }[]> {
  if (names.length === 0) return [];
  return db
    .selectFrom('secrets')
    .select(['live_name as name', 'owner_id'])
    .where('live_name', 'in', [...new Set(names)])
    .execute() as Promise<{ name: string; owner_id: string }[]>;
}

/** A secret's row with the shares granted on it. */
export interface SecretWithShares {
  row: SecretRow;
  shares: ShareGrant[];
  /**
   * Read only when asked for (`withValue`): the sealed current version as the secret's backend
   * stored it in `secret_values`, or null when that table holds none for it (a backend in
   * another store, or none written). Opened only by a backend that keeps its values there.
   */
  sealedCurrent?: Uint8Array | null;
}

/** The secret and each of its shares as one row each (a secret without shares: one row of NULLs). */
function withShares(db: Queryable) {
  return db
    .selectFrom('secrets')
    .leftJoin('shares', 'shares.secret_id', 'secrets.id')
    .select(qualifiedSecretColumns)
    .select(['shares.grantee_type', 'shares.grantee_id', 'shares.level']);
}

/**
 * The same, with the sealed current version read in the same statement (a reveal then needs no
 * statement of its own for it). The join seeks `secret_values`' primary key.
 */
function withSharesAndValue(db: Queryable) {
  return withShares(db)
    .leftJoin('secret_values', (join) =>
      join
        .onRef('secret_values.store', '=', 'secrets.backend')
        .onRef('secret_values.secret_id', '=', 'secrets.id')
        .onRef('secret_values.version', '=', 'secrets.current_version'),
    )
    .select('secret_values.blob as sealed_current');
}

type JoinedRow = SecretRow & {
  grantee_type: string | null;
  grantee_id: string | null;
  level: string | null;
  sealed_current?: Uint8Array | null;
};

/** Folds the joined rows back into secrets (in the order of their first row) with their shares. */
function foldShares(joined: readonly JoinedRow[]): SecretWithShares[] {
  const byId = new Map<string, SecretWithShares>();
  for (const joinedRow of joined) {
    const { grantee_type, grantee_id, level } = joinedRow;
    let found = byId.get(joinedRow.id);
    if (found === undefined) {
      const sealed = joinedRow.sealed_current;
      found =
        sealed === undefined
          ? { row: secretRowOf(joinedRow), shares: [] }
          : { row: secretRowOf(joinedRow), shares: [], sealedCurrent: sealed };
      byId.set(joinedRow.id, found);
    }
    if (grantee_type !== null && grantee_id !== null && level !== null) {
      found.shares.push({
        granteeType: grantee_type as ShareGrant['granteeType'],
        granteeId: grantee_id,
        level: level as AccessLevel,
      });
    }
  }
  return [...byId.values()];
}

/**
 * The secret's own columns of a joined row. Spelled out because a rest pattern
 * (`{ grantee_type, ...row }`) copies through a slow runtime path in V8: ~4 µs for a row of
 * `secrets`, against ~0.1 µs here, on every access check (docs/performance.md, "Object rest").
 */
function secretRowOf(j: JoinedRow): SecretRow {
  return {
    id: j.id,
    owner_id: j.owner_id,
    name: j.name,
    live_name: j.live_name,
    kind: j.kind,
    description: j.description,
    current_version: j.current_version,
    revision: j.revision,
    backend: j.backend,
    created_at: j.created_at,
    updated_at: j.updated_at,
    created_by: j.created_by,
    updated_by: j.updated_by,
    deleted_at: j.deleted_at,
    purge_after: j.purge_after,
    expires_at: j.expires_at,
    rotate_every_days: j.rotate_every_days,
    rotation_due_at: j.rotation_due_at,
    due_at: j.due_at,
  };
}

/** The statements of an access check, compiled once per database (see preparedQuery). */
function accessReads(db: Queryable) {
  return {
    byId: preparedQuery((id: string) => withShares(db).where('secrets.id', '=', id)),
    byLiveName: preparedQuery((name: string) => withShares(db).where('secrets.live_name', '=', name)),
    byIdWithValue: preparedQuery((id: string) => withSharesAndValue(db).where('secrets.id', '=', id)),
    byLiveNameWithValue: preparedQuery((name: string) =>
      withSharesAndValue(db).where('secrets.live_name', '=', name),
    ),
    live: preparedQuery((name: string) =>
      db.selectFrom('secrets').select(secretColumns).where('live_name', '=', name),
    ),
    /** The labels of one secret: what a read, create or update answers with. */
    labels: preparedQuery((id: string) =>
      db.selectFrom('secret_labels').select(labelColumns).where('secret_id', '=', id),
    ),
    /** The labels of a page's secrets, its ids padded (paddedIn). */
    labelsIn: perSize((length) =>
      preparedQuery((...ids: string[]) =>
        db.selectFrom('secret_labels').select(labelColumns).where('secret_id', 'in', ids.slice(0, length)),
      ),
    ),
    /** The shares of a page's secrets, its ids padded (paddedIn). */
    sharesIn: perSize((length) =>
      preparedQuery((...ids: string[]) =>
        db.selectFrom('shares').select(shareColumns).where('secret_id', 'in', ids.slice(0, length)),
      ),
    ),
  };
}

const accessReadsFor = oncePer(accessReads);

/** A secret by id with its shares, in one statement: what an access check needs. */
export async function findSecretWithSharesById(
  db: Queryable,
  id: string,
  withValue = false,
): Promise<SecretWithShares | undefined> {
  const reads = accessReadsFor(db);
  const { rows } = await (withValue ? reads.byIdWithValue : reads.byId).execute(db, id);
  return foldShares(rows as JoinedRow[])[0];
}

/** Secrets by name with their shares, in one statement: live ones, or deleted ones (most recently deleted first). */
export async function findSecretsWithSharesByName(
  db: Queryable,
  name: string,
  state: 'live' | 'deleted',
  withValue = false,
): Promise<SecretWithShares[]> {
  const reads = accessReadsFor(db);
  const rows =
    state === 'live'
      ? (await (withValue ? reads.byLiveNameWithValue : reads.byLiveName).execute(db, name)).rows
      : await withShares(db)
          .where('secrets.name', '=', name)
          .where('secrets.deleted_at', 'is not', null)
          .orderBy('secrets.deleted_at', 'desc')
          .orderBy('secrets.id')
          .execute();
  return foldShares(rows as JoinedRow[]);
}

export async function labelsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, Labels>> {
  const map = new Map<string, Labels>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return map;
  const rows = await labelRows(db, ids);
  for (const row of rows) map.get(row.secret_id)![row.name] = row.value;
  return map;
}

async function labelRows(db: Queryable, ids: readonly string[]) {
  if (ids.length === 1) return (await accessReadsFor(db).labels.execute(db, ids[0]!)).rows;
  const padded = paddedIn(ids);
  if (padded !== undefined)
    return (
      await accessReadsFor(db)
        .labelsIn(padded.length)
        .execute(db, ...padded)
    ).rows;
  return db.selectFrom('secret_labels').select(labelColumns).where('secret_id', 'in', ids).execute();
}

export async function replaceLabels(db: Queryable, secretId: string, labels: Labels): Promise<void> {
  await db.deleteFrom('secret_labels').where('secret_id', '=', secretId).execute();
  const rows = Object.entries(labels).map(([name, value]) => ({ secret_id: secretId, name, value }));
  if (rows.length > 0) await db.insertInto('secret_labels').values(rows).execute();
}

export async function sharesOf(db: Queryable, ids: readonly string[]): Promise<Map<string, ShareGrant[]>> {
  const map = new Map<string, ShareGrant[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return map;
  const padded = paddedIn(ids);
  const rows =
    padded === undefined
      ? await db.selectFrom('shares').select(shareColumns).where('secret_id', 'in', ids).execute()
      : (
          await accessReadsFor(db)
            .sharesIn(padded.length)
            .execute(db, ...padded)
        ).rows;
  for (const row of rows) {
    map.get(row.secret_id)!.push({
      granteeType: row.grantee_type as ShareGrant['granteeType'],
      granteeId: row.grantee_id,
      level: row.level as AccessLevel,
    });
  }
  return map;
}

export interface ListQuery {
  actor: ResolvedActor;
  /** Restrict to secrets the actor owns or holds through its own shares, ignoring admin rights. */
  mine: boolean;
  /** Minimum share level that makes a secret listed (`read` for lists, `use` for usable()). */
  minimumShareLevel: 'use' | 'read';
  kind?: string;
  labels: { name: string; value?: string }[];
  namePrefix?: string;
  state: 'live' | 'deleted' | 'all';
  after?: { name: string; id: string };
  limit: number;
  /** How to seek the page to `after` on this dialect. */
  features: KeysetFeatures;
  /** Up to how many secrets within reach a page reads those instead of walking every name (tests set it). */
  reachLimit?: number;
  /** Where the last counts of reach are kept for a few seconds; without it every page counts. */
  reachMemory?: ReachMemory;
}

/** A page of secrets in (name, id) order, filtered to what the actor may see. */
export async function listSecrets(db: Queryable, q: ListQuery): Promise<SecretRow[]> {
  let query = db.selectFrom('secrets').select(secretColumns);
  if (q.state === 'live') query = query.where('deleted_at', 'is', null);
  if (q.state === 'deleted') query = query.where('deleted_at', 'is not', null);
  if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
  const prefix = q.namePrefix === '' ? undefined : q.namePrefix;
  // A cursor before the prefix's first name excludes nothing: it is left out. (The prefix is
  // ASCII, so JavaScript's order agrees with the binary collation here.)
  const after = q.after !== undefined && prefix !== undefined && q.after.name < prefix ? undefined : q.after;
  if (prefix !== undefined) {
    // Names use a restricted ASCII set with binary collation, so a prefix is a half-open range.
    const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    query = query.where('name', '<', upper);
    // With a cursor (at or past the prefix) the cursor alone is the lower bound. Both at once
    // and the index seek may start at the prefix and read up to the cursor: PostgreSQL does
    // when the cursor is before the prefix, SQLite sometimes when it is after
    // (docs/performance.md, "Deep pages").
    if (after === undefined) query = query.where('name', '>=', prefix);
  }
  for (const label of q.labels) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('secret_labels')
          .select('secret_labels.secret_id')
          .whereRef('secret_labels.secret_id', '=', 'secrets.id')
          .where('secret_labels.name', '=', label.name)
          .$if(label.value !== undefined, (sq) => sq.where('secret_labels.value', '=', label.value!)),
      ),
    );
  }
  const actor = q.actor;
  const unrestricted = actor.type !== 'group' && actor.role === 'admin' && !q.mine;
  if (!unrestricted) {
    const shareLevels: readonly AccessLevel[] =
      q.minimumShareLevel === 'use' ? ['use', ...visibleLevels] : visibleLevels;
    query = await withinReach(db, query, actor, shareLevels, q.reachLimit, q.reachMemory);
  }
  if (after !== undefined) {
    query = query.where((eb) => afterKeyset(eb, q.features, 'asc', ['name', after.name], ['id', after.id]));
  }
  return query.orderBy('name').orderBy('id').limit(q.limit).execute();
}

/**
 * `query` kept to the secrets `actor` owns or holds through a share of one of `levels` (its
 * own or one of its groups').
 *
 * Few secrets within reach: the query reads those by id and sorts them. Many: it walks its
 * index and checks each row. Walking the names for an actor who can see 200 of 200,000 secrets
 * read all 200,000 for each page (69 ms here); sorting what an actor owning all of them can
 * see took 1.2 s. `sparseAccessLimit` is near where the two cost the same at 1,000,000 secrets
 * (docs/performance.md, "Deep pages"); `reachLimit` replaces it in tests. With `memory`, the
 * count's decision is reused for a few seconds (reach-memory.ts).
 */
export async function withinReach<O>(
  db: Queryable,
  query: SelectQueryBuilder<CofferTables, 'secrets', O>,
  actor: ResolvedActor,
  levels: readonly AccessLevel[],
  reachLimit = sparseAccessLimit,
  memory?: ReachMemory,
): Promise<SelectQueryBuilder<CofferTables, 'secrets', O>> {
  const accessible = accessibleIds(db, actor, levels);
  const key = memory === undefined ? '' : reachKey(actor, levels, reachLimit);
  let sparse = memory?.recall(key);
  if (sparse === undefined) {
    sparse = (await countUpTo(db, accessible, reachLimit)) <= reachLimit;
    memory?.remember(key, sparse);
  }
  if (sparse) return query.where('id', 'in', accessible);
  const groupIds = [...actor.groupIds];
  return query.where((eb) => {
    const shared = eb.exists(
      eb
        .selectFrom('shares')
        .select('shares.secret_id')
        .whereRef('shares.secret_id', '=', 'secrets.id')
        .where('shares.level', 'in', levels)
        .where((s) => {
          const grantees =
            actor.type === 'group'
              ? []
              : [s.and([s('shares.grantee_type', '=', 'user'), s('shares.grantee_id', '=', actor.id)])];
          if (groupIds.length > 0) {
            grantees.push(
              s.and([s('shares.grantee_type', '=', 'group'), s('shares.grantee_id', 'in', groupIds)]),
            );
          }
          return grantees.length === 0 ? s.val(false) : s.or(grantees);
        }),
    );
    return actor.type === 'group' ? shared : eb.or([eb('owner_id', '=', actor.id), shared]);
  });
}

/** A query of secret ids (its tables vary). */
type AccessibleIds = SelectQueryBuilder<CofferTables, 'secrets' | 'shares', { id: string }>;

/** Above this many secrets within an actor's reach, a list walks the names instead. */
const sparseAccessLimit = 3000;

/**
 * The ids of the secrets an actor owns or holds through a share of one of `levels` (its own
 * or one of its groups'), as one subquery. An id may come more than once.
 */
function accessibleIds(db: Queryable, actor: ResolvedActor, levels: readonly AccessLevel[]): AccessibleIds {
  const groupIds = [...actor.groupIds];
  const sharedTo = (type: 'user' | 'group', ids: readonly string[]) =>
    db
      .selectFrom('shares')
      .select('shares.secret_id as id')
      .where('shares.grantee_type', '=', type)
      .where('shares.grantee_id', 'in', ids)
      .where('shares.level', 'in', levels);
  const parts: AccessibleIds[] = [
    ...(actor.type === 'group'
      ? []
      : [
          db.selectFrom('secrets').select('secrets.id').where('secrets.owner_id', '=', actor.id),
          sharedTo('user', [actor.id]),
        ]),
    ...(groupIds.length === 0 ? [] : [sharedTo('group', groupIds)]),
  ];
  // A group actor always has its own group; a person always owns a part.
  return parts.slice(1).reduce((all, part) => all.unionAll(part), parts[0]!);
}

/** How many rows `subquery` has, counting no further than `limit` + 1. */
async function countUpTo(db: Queryable, subquery: AccessibleIds, limit: number): Promise<number> {
  const row = await db
    .selectFrom(subquery.limit(limit + 1).as('reach'))
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface VersionRowInput {
  secretId: string;
  version: number;
  createdAt: string;
  createdBy: string;
  changedFields: readonly string[];
  rollbackOf: number | null;
}

/**
 * The columns of `secrets`, in the order the prepared insert binds them. Reads name them too
 * instead of `select *`: on SQLite a statement that names its columns returns its rows as
 * arrays, made into objects in JavaScript, which is faster (storage/database.ts, `rowsAsArrays`).
 */
const secretColumns = [
  'id',
  'owner_id',
  'name',
  'live_name',
  'kind',
  'description',
  'current_version',
  'revision',
  'backend',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
  'deleted_at',
  'purge_after',
  'expires_at',
  'rotate_every_days',
  'rotation_due_at',
  'due_at',
] as const satisfies readonly (keyof SecretRow)[];
// Every column of a secret row is bound: a column added to SecretRow must be added above.
const everySecretColumn: Exclude<keyof SecretRow, (typeof secretColumns)[number]> extends never
  ? true
  : never = true;
void everySecretColumn;
/** The same, qualified by the table, for reads that join `secrets` to another. */
const qualifiedSecretColumns = secretColumns.map((c) => `secrets.${c}` as const);

/** The columns of `secret_labels`, named in reads (see `secretColumns`). */
const labelColumns = ['secret_id', 'name', 'value'] as const satisfies readonly (keyof SecretLabelRow)[];
const shareColumns = ['secret_id', 'grantee_type', 'grantee_id', 'level'] as const;
const everyLabelColumn: Exclude<keyof SecretLabelRow, (typeof labelColumns)[number]> extends never
  ? true
  : never = true;
void everyLabelColumn;

const versionColumns = [
  'secret_id',
  'version',
  'created_at',
  'created_by',
  'changed_fields',
  'rollback_of',
] as const;

const journalColumns = ['secret_id', 'version', 'backend', 'action', 'created_at'] as const;

/** What a new version changes on its secret's row. */
export type NextVersionColumns = Pick<
  SecretRow,
  | 'current_version'
  | 'revision'
  | 'updated_at'
  | 'updated_by'
  | 'expires_at'
  | 'rotate_every_days'
  | 'rotation_due_at'
  | 'due_at'
>;

/**
 * The statements of a write (a new secret, a new version, a new secret's labels, the versions an
 * update drops), compiled once per database (see preparedInsert) and run on the write's
 * transaction.
 */
export function secretWrites(db: Queryable) {
  const secret = preparedInsert(db, 'secrets', secretColumns);
  const version = preparedInsert(db, 'secret_versions', versionColumns);
  const nextVersion = preparedQuery(
    (
      currentVersion: number,
      revision: number,
      updatedAt: string,
      updatedBy: string,
      expiresAt: string | null,
      rotateEveryDays: number | null,
      rotationDueAt: string | null,
      dueAt: string | null,
      id: string,
      fromVersion: number,
      fromRevision: number,
      backend: string,
    ) =>
      db
        .updateTable('secrets')
        .set({
          current_version: currentVersion,
          revision,
          updated_at: updatedAt,
          updated_by: updatedBy,
          expires_at: expiresAt,
          rotate_every_days: rotateEveryDays,
          rotation_due_at: rotationDueAt,
          due_at: dueAt,
        })
        .where('id', '=', id)
        .where('current_version', '=', fromVersion)
        .where('revision', '=', fromRevision)
        .where('backend', '=', backend)
        .where('deleted_at', 'is', null),
  );
  const staleVersions = preparedQuery((secretId: string, keep: number) =>
    db
      .selectFrom('secret_versions')
      .select('version')
      .where('secret_id', '=', secretId)
      .orderBy('version', 'desc')
      .offset(keep)
      .limit(1_000_000),
  );
  const dropVersion = preparedQuery((secretId: string, version: number) =>
    db.deleteFrom('secret_versions').where('secret_id', '=', secretId).where('version', '=', version),
  );
  const dropJournalRow = preparedQuery((secretId: string, backend: string, version: number) =>
    db
      .deleteFrom('value_journal')
      .where('secret_id', '=', secretId)
      .where('backend', '=', backend)
      .where('version', '=', version),
  );
  const journalRow = preparedInsert(db, 'value_journal', journalColumns);
  return {
    /**
     * Drops version rows beyond the newest `keep`, in the caller's transaction, and returns
     * them. With `journal`, their values are journaled for deletion after the commit (what
     * `journalDeletes` does, a version at a time: an update past `keep` drops one, with
     * statements compiled once). Without, the caller deletes the values in this transaction: a
     * backend in Coffer's own database, where a journal row would be written and removed again
     * before the commit.
     */
    async pruneVersions(
      tx: Queryable,
      secretId: string,
      backend: string,
      keep: number,
      now: string,
      journal: boolean,
    ) {
      const versions = (await staleVersions.execute(tx, secretId, keep)).rows.map((r) => r.version);
      for (const version of versions) {
        await dropVersion.execute(tx, secretId, version);
        // A stale `put` row for the same ref (a crashed write) is superseded by the delete.
        await dropJournalRow.execute(tx, secretId, backend, version);
        if (!journal) continue;
        await journalRow.execute(tx, {
          secret_id: secretId,
          version,
          backend,
          action: 'delete',
          created_at: now,
        });
      }
      return versions;
    },
    /**
     * Moves the secret to its next version, on the condition that it is still at the version,
     * revision and backend `from` was read at, and not deleted; `numUpdatedRows` says whether.
     */
    nextVersion: async (tx: Queryable, from: SecretRow, set: NextVersionColumns) => {
      const result = await nextVersion.execute(
        tx,
        set.current_version,
        set.revision,
        set.updated_at,
        set.updated_by,
        set.expires_at,
        set.rotate_every_days,
        set.rotation_due_at,
        set.due_at,
        from.id,
        from.current_version,
        from.revision,
        from.backend,
      );
      return { numUpdatedRows: result.numAffectedRows ?? 0n };
    },
    secret: (tx: Queryable, row: SecretRow) => secret.execute(tx, row),
    version: (tx: Queryable, v: VersionRowInput) =>
      version.execute(tx, {
        secret_id: v.secretId,
        version: v.version,
        created_at: v.createdAt,
        created_by: v.createdBy,
        changed_fields: JSON.stringify(v.changedFields),
        rollback_of: v.rollbackOf,
      }),
    /** A new secret's labels (it has none yet to replace). */
    async labels(tx: Queryable, secretId: string, labels: Labels): Promise<void> {
      const rows = Object.entries(labels).map(([name, value]) => ({ secret_id: secretId, name, value }));
      if (rows.length > 0) await tx.insertInto('secret_labels').values(rows).execute();
    },
  };
}

export async function versionsOf(db: Queryable, secretId: string) {
  return db
    .selectFrom('secret_versions')
    .selectAll()
    .where('secret_id', '=', secretId)
    .orderBy('version', 'desc')
    .execute();
}

/**
 * Journals the deletion of a secret's values from `backend` in the caller's transaction: the
 * value writer (or, after a crash, the reconciler) deletes them once it committed.
 */
export async function journalDeletes(
  database: CofferDatabase,
  tx: Queryable,
  secretId: string,
  backend: string,
  versions: readonly number[],
  now: string,
): Promise<void> {
  if (versions.length === 0) return;
  // A stale `put` row for the same ref (a crashed write) is superseded by the delete.
  await removeJournalRows(database, tx, secretId, backend, versions);
  await journalDeleteStatements(database)
    .insertDeletes(versions.length)
    .execute(tx, secretId, backend, now, ...versions);
}

/** Removes the journal's rows (of any action) on these versions of a secret in `backend`. */
export async function removeJournalRows(
  database: CofferDatabase,
  tx: Queryable,
  secretId: string,
  backend: string,
  versions: readonly number[],
): Promise<void> {
  if (versions.length === 0) return;
  await journalDeleteStatements(database)
    .removeRows(versions.length)
    .execute(tx, secretId, backend, ...versions);
}

/** The journal statements above, compiled once per database and number of versions. */
const journalDeleteStatements = oncePer((database: CofferDatabase) => ({
  removeRows: perSize((size) =>
    preparedQuery((secretId: string, backend: string, ...versions: number[]) =>
      database.db
        .deleteFrom('value_journal')
        .where('secret_id', '=', secretId)
        .where('backend', '=', backend)
        .where('version', 'in', versions.slice(0, size)),
    ),
  ),
  insertDeletes: perSize((size) =>
    preparedQuery((secretId: string, backend: string, now: string, ...versions: number[]) =>
      database.db.insertInto('value_journal').values(
        versions.slice(0, size).map((version) => ({
          secret_id: secretId,
          version,
          backend,
          action: 'delete',
          created_at: now,
        })),
      ),
    ),
  ),
}));

/** Removes the secret's metadata rows (not its audit records) in the caller's transaction. */
export async function deleteSecretRows(db: Queryable, secretId: string): Promise<void> {
  await db.deleteFrom('secret_labels').where('secret_id', '=', secretId).execute();
  await db.deleteFrom('shares').where('secret_id', '=', secretId).execute();
  await db.deleteFrom('secret_versions').where('secret_id', '=', secretId).execute();
  await db.deleteFrom('secrets').where('id', '=', secretId).execute();
}
