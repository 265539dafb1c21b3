import { atLeast } from '../access/access-level.js';
import { type EffectiveAccess, effectiveAccess } from '../access/access-policy.js';
import type { Backend } from '../backends/backend.js';
import type { BackendSet } from '../backends/backend-registry.js';
import { CofferError, type FieldIssue, isCofferError } from '../errors/coffer-error.js';
import type { AuditPosition, EventWriter } from '../events/event-outbox.js';
import type { SecretEventType } from '../events/event-types.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import type { Kind, SecretValues } from '../kinds/kind-types.js';
import type { Logger } from '../logging/logger.js';
import {
  afterValuesChange,
  parseExpiresAt,
  reminderColumns,
  rotateEveryIssues,
} from '../reminders/reminder-schedule.js';
import { type Clock, isoNow } from '../shared/clock.js';
import { hasControlCharacters } from '../shared/control-characters.js';
import { decodeCursor, encodeCursor, type Page, type PageRequest, pageLimit } from '../shared/page.js';
import { timeOrderedUuid } from '../shared/time-ordered-id.js';
import type { CofferDatabase } from '../storage/database.js';
import type { SecretRow } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import { maskValues } from './masking.js';
import { ReachMemory } from './reach-memory.js';
import { type AuditWriter, authorize, secretAudit } from './secret-access.js';
import { descriptionIssues, labelIssues, secretNameIssues } from './secret-names.js';
import {
  deleteSecretRows,
  findSecretsByName,
  journalDeletes,
  labelsOf,
  listSecrets,
  liveSecretNames,
  replaceLabels,
  secretWrites,
  sharesOf,
  versionsOf,
} from './secret-store.js';
import {
  type BatchCreateOutcome,
  type CreateSecretInput,
  type Labels,
  type ListSecretsFilter,
  maxBatchCreate,
  type SecretMetadata,
  type SecretValuesView,
  type SecretVersionInfo,
  type UpdateMetadataInput,
  type UpdateValuesInput,
} from './secret-types.js';
import { assertValuesSize, changedFields, mergeValues, rejectMasks } from './value-changes.js';
import {
  assertOneRow,
  claimJournalRow,
  deleteJournaledValues,
  releaseJournalRow,
  WriteInProgress,
  type WriteStep,
  writeVersion,
} from './value-writer.js';

/** The kinds a secret service needs to look up. */
export interface KindLookup {
  get(id: string): Kind | undefined;
  require(id: string): Kind;
}

export interface SecretSettings {
  /** How many versions of each secret are kept (default 10). */
  keepVersions: number;
  /** How long a deleted secret can be restored before it is purged, in seconds. */
  recoveryWindowSeconds: number;
  /** How old an unfinished write's journal entry must be before another writer may clear it. */
  writeLeaseMs: number;
}

export interface SecretServiceDeps {
  database: CofferDatabase;
  kinds: KindLookup;
  backends: BackendSet;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: AuditWriter;
  events: EventWriter;
  clock: Clock;
  logger: Logger;
  settings: SecretSettings;
  /** Crash tests kill the process at a write step through this hook. */
  onWriteStep?: (step: WriteStep, ref: { secretId: string; version: number }) => void;
}

/** A secret's values for server-side use, with the metadata that says what they are. */
export interface UsedSecret<V extends SecretValues = SecretValues> {
  secret: SecretMetadata;
  version: number;
  values: V;
}

const maxWriteAttempts = 60;

/**
 * The secrets engine: create, read, list, update, version, delete and use secrets, each
 * operation checked against the acting principal's access and recorded in the audit log.
 *
 * @example
 * const secrets = createSecretService(deps);
 * const smtp = await secrets.create(asUser(alice), { name: 'smtp', kind: 'smtp', values: { host: 'mail.example.com', password: 'pw' } });
 * const view = await secrets.readValues(asUser(alice), smtp.id, { reveal: true });
 */
export function createSecretService(deps: SecretServiceDeps) {
  const { database, kinds, backends, audit, events, clock, settings } = deps;
  const db = database.db;
  const writerDeps = { database, clock, logger: deps.logger, onStep: deps.onWriteStep };
  const writes = secretWrites(db);

  const resolve = (actor: Actor) => deps.resolveActor(actor);
  const reachMemory = new ReachMemory();

  async function toMetadata(
    row: SecretRow,
    access: EffectiveAccess,
    labels?: Labels,
  ): Promise<SecretMetadata> {
    return metadataOf(row, access, labels ?? (await labelsOf(db, [row.id])).get(row.id)!);
  }

  /** When the current values were written: the current version's creation. */
  async function valuesChangedAt(tx: Tx, row: SecretRow): Promise<string> {
    const current = await tx
      .selectFrom('secret_versions')
      .select('created_at')
      .where('secret_id', '=', row.id)
      .where('version', '=', row.current_version)
      .executeTakeFirst();
    return current?.created_at ?? row.created_at;
  }

  /** Records a change's event in its transaction, with its audit record's position. */
  function recordEvent(
    tx: Tx,
    position: AuditPosition,
    type: SecretEventType,
    row: Pick<SecretRow, 'id' | 'name' | 'kind' | 'owner_id'>,
    who: ResolvedActor | null,
    version: number,
  ): Promise<void> {
    return events.record(tx, position, {
      type,
      secretId: row.id,
      name: row.name,
      kind: row.kind,
      version,
      ownerId: row.owner_id,
      actorId: who?.id ?? 'system',
    });
  }

  /** A kind for masking a stored secret: an unknown (removed) kind masks every field. */
  function kindForDisplay(id: string): Pick<Kind, 'isSecretField'> {
    return kinds.get(id) ?? { isSecretField: () => true };
  }

  async function readStored(
    row: SecretRow,
    version: number,
    sealedCurrent?: Uint8Array | null,
  ): Promise<SecretValues> {
    const ref = { secretId: row.id, version };
    const backend = backends.require(row.backend);
    try {
      // The access check read the current version's sealed blob with the secret (one statement
      // less per reveal); only a backend keeping its values in `secret_values` opens it.
      if (sealedCurrent != null && version === row.current_version && backend.transactional !== undefined) {
        return await backend.transactional.openSealed(sealedCurrent, ref);
      }
      return await backend.get(ref);
    } catch (err) {
      if (!isCofferError(err, 'value_not_found')) throw err;
      // A migration may have moved the values since `row` was read: read them where they are now.
      const now = await db
        .selectFrom('secrets')
        .select('backend')
        .where('id', '=', row.id)
        .executeTakeFirst();
      if (now === undefined || now.backend === row.backend) throw err;
      return backends.require(now.backend).get(ref);
    }
  }

  async function assertVersionKept(row: SecretRow, version: number): Promise<void> {
    const kept = await db
      .selectFrom('secret_versions')
      .select('version')
      .where('secret_id', '=', row.id)
      .where('version', '=', version)
      .executeTakeFirst();
    if (kept === undefined) {
      throw new CofferError('not_found', `version ${version} of secret "${row.name}" is not kept`);
    }
  }

  /**
   * The values of a version, telling a destroyed version (its row is gone, see
   * `destroyVersions`) from a value its backend lost: the first is `not_found`.
   */
  async function readKept(
    row: SecretRow,
    version: number,
    sealedCurrent?: Uint8Array | null,
  ): Promise<SecretValues> {
    try {
      return await readStored(row, version, sealedCurrent);
    } catch (err) {
      if (isCofferError(err, 'value_not_found')) await assertVersionKept(row, version);
      throw err;
    }
  }

  /**
   * A change of a live secret's record that makes no version (metadata, rename): claims the
   * next revision with a conditional update, so concurrent changes never overwrite each other
   * unnoticed. With an expectation that no longer holds it fails with `version_conflict`;
   * without one, a change that lost the race is simply retried on the fresh row.
   */
  async function changeRecord(
    who: ResolvedActor,
    ref: string,
    operation: 'updateMetadata' | 'rename' | 'destroyVersions',
    expect: { expectedVersion?: number | undefined; expectedRevision?: number | undefined },
    apply: (tx: Tx, row: SecretRow, now: string) => Promise<Partial<SecretRow>>,
    isNoChange: (row: SecretRow) => boolean = () => false,
  ): Promise<{ updated: SecretRow; access: EffectiveAccess; unchanged: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const { row, access } = await authorize(db, audit, who, ref, operation);
      assertExpectation(row, expect);
      if (isNoChange(row)) return { updated: row, access, unchanged: true };
      const now = isoNow(clock);
      const changes = await inTransaction(database, async (tx) => {
        const claimed = await tx
          .updateTable('secrets')
          .set({ revision: row.revision + 1 })
          .where('id', '=', row.id)
          .where('revision', '=', row.revision)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (claimed.numUpdatedRows !== 1n) return null;
        return apply(tx, row, now);
      });
      if (changes !== null) {
        const updated = {
          ...row,
          ...changes,
          revision: row.revision + 1,
          updated_at: now,
          updated_by: who.id,
        };
        return { updated, access, unchanged: false };
      }
      if (attempt >= maxWriteAttempts) {
        throw new CofferError('conflict', `secret "${row.name}" is being changed by someone else; retry`);
      }
      await sleep(Math.min(200, 2 ** Math.min(attempt, 7)) * (0.5 + Math.random()));
    }
  }

  /** Records a refused create or delete-all, then refuses it (like every denial, audited). */
  async function refuse(
    who: ResolvedActor,
    action: 'secret.create' | 'secret.delete_all',
    message: string,
  ): Promise<never> {
    await audit.appendStandalone(
      secretAudit(who, action, {}, { outcome: 'denied', details: { reason: message } }),
    );
    throw new CofferError('forbidden', message);
  }

  async function assertCanCreate(
    who: ResolvedActor,
    action: 'secret.create' | 'secret.delete_all',
  ): Promise<void> {
    if (who.type === 'group') await refuse(who, action, 'a group actor may only use secrets');
    if (who.scope === 'read-only')
      await refuse(who, action, 'a read-only token cannot create or delete secrets');
  }

  /**
   * Writes version `row.current_version + 1`, retrying when another writer got there first
   * (unless the caller asked for check-and-set, which then fails with `version_conflict`).
   * `prepare` recomputes the new values from the freshly read row on every attempt.
   */
  async function writeNextVersion(
    who: ResolvedActor,
    ref: string,
    operation: 'update' | 'rollback',
    expectedVersion: number | undefined,
    prepare: (
      row: SecretRow,
      stored: SecretValues,
    ) => Promise<{ values: SecretValues; rollbackOf: number | null } | null>,
    auditDetails: (row: SecretRow, changed: string[]) => Record<string, string | number | string[]>,
  ): Promise<SecretMetadata> {
    for (let attempt = 1; ; attempt++) {
      const { row, access, sealedCurrent } = await authorize(db, audit, who, ref, operation, 'live', true);
      if (expectedVersion !== undefined && row.current_version !== expectedVersion) {
        throw new CofferError(
          'version_conflict',
          `secret "${row.name}" is at version ${row.current_version}, not ${expectedVersion}`,
          { details: { expectedVersion, currentVersion: row.current_version } },
        );
      }
      // A destroyed current version has no values left to change: the next one starts empty.
      const stored = await readKept(row, row.current_version, sealedCurrent).catch((err: unknown) => {
        if (isCofferError(err, 'not_found')) return {};
        throw err;
      });
      const next = await prepare(row, stored);
      if (next === null) return toMetadata(row, access);
      const changed = changedFields(stored, next.values);
      if (changed.length === 0 && next.rollbackOf === null) return toMetadata(row, access);
      const version = row.current_version + 1;
      const backend = backends.require(row.backend);
      const now = isoNow(clock);
      // New values restart the rotation clock (docs/reminders.md).
      const reminders = afterValuesChange(row, now);
      try {
        await writeVersion(writerDeps, backend, { secretId: row.id, version }, next.values, async (tx) => {
          // A metadata change in between (revision) makes this a lost race too (retried below).
          const result = await writes.nextVersion(tx, row, {
            current_version: version,
            revision: row.revision + 1,
            updated_at: now,
            updated_by: who.id,
            ...reminders,
          });
          assertOneRow(result, `secret "${row.name}"`);
          await writes.version(tx, {
            secretId: row.id,
            version,
            createdAt: now,
            createdBy: who.id,
            changedFields: changed,
            rollbackOf: next.rollbackOf,
          });
          // Versions are numbered from 1, so a secret at version `keep` or below has none to drop.
          const dropped =
            version <= settings.keepVersions
              ? []
              : await writes.pruneVersions(
                  tx,
                  row.id,
                  row.backend,
                  settings.keepVersions,
                  now,
                  // A backend in this database deletes them in this transaction (value-writer.ts).
                  backend.transactional === undefined,
                );
          const position = await audit.append(
            tx,
            secretAudit(who, operation === 'update' ? 'secret.update' : 'secret.rollback', row, {
              details: { version, ...auditDetails(row, changed) },
            }),
          );
          await recordEvent(tx, position, 'secret.updated', row, who, version);
          return dropped;
        });
      } catch (err) {
        const lostRace = err instanceof WriteInProgress || isCofferError(err, 'conflict');
        if (!lostRace) throw err;
        if (err instanceof WriteInProgress) await clearStaleIntent(row.id, version, backend);
        if (attempt >= maxWriteAttempts) {
          throw new CofferError('conflict', `secret "${row.name}" is being written by someone else; retry`);
        }
        await sleep(Math.min(200, 2 ** Math.min(attempt, 7)) * (0.5 + Math.random()));
        continue;
      }
      const updated = {
        ...row,
        current_version: version,
        revision: row.revision + 1,
        updated_at: now,
        updated_by: who.id,
        ...reminders,
      };
      events.changed();
      return toMetadata(updated, access);
    }
  }

  /** A crashed writer's intent blocks the version it wanted; once its lease ran out, undo it. */
  async function clearStaleIntent(secretId: string, version: number, backend: Backend): Promise<void> {
    const cutoff = new Date(clock().getTime() - settings.writeLeaseMs).toISOString();
    const stale = await db
      .selectFrom('value_journal')
      .selectAll()
      .where('secret_id', '=', secretId)
      .where('version', '=', version)
      .where('backend', '=', backend.name)
      .where('action', '=', 'put')
      .where('created_at', '<', cutoff)
      .executeTakeFirst();
    if (stale === undefined) return;
    const claim = await claimJournalRow(db, stale, clock);
    if (claim === null) return;
    await backend.delete({ secretId, version });
    await releaseJournalRow(db, stale, claim);
  }

  async function purgeRow(who: ResolvedActor | null, row: SecretRow): Promise<void> {
    const now = isoNow(clock);
    // Backend and versions are read in the purge's transaction, the row locked where the
    // dialect can: a migration may have moved the values since `row` was read.
    const purged = await inTransaction(database, async (tx) => {
      let query = tx.selectFrom('secrets').selectAll().where('id', '=', row.id);
      if (database.features.forUpdate) query = query.forUpdate();
      const current = await query.executeTakeFirst();
      if (current === undefined) return null;
      const versions = (await versionsOf(tx, row.id)).map((v) => v.version);
      await deleteSecretRows(tx, row.id);
      await journalDeletes(database, tx, row.id, current.backend, versions, now);
      const position = await audit.append(
        tx,
        who === null
          ? {
              action: 'secret.purge',
              outcome: 'success',
              actor: { type: 'system', name: 'recovery-window' },
              source: 'system',
              target: { type: 'secret', id: row.id, name: row.name },
              details: { reason: 'recovery window ended' },
            }
          : secretAudit(who, 'secret.purge', row),
      );
      await recordEvent(tx, position, 'secret.purged', current, who, current.current_version);
      return { backend: current.backend, versions };
    });
    if (purged === null) return;
    events.changed();
    // The crash tests kill here: metadata is gone, the values wait as journaled deletes.
    writerDeps.onStep?.('committed', { secretId: row.id, version: Math.max(0, ...purged.versions) });
    const backend = backends.get(purged.backend);
    if (backend !== undefined) await deleteJournaledValues(writerDeps, backend, row.id, purged.versions);
  }

  /**
   * Creates a secret owned by the actor (admins may name another owner) with version 1 of its
   * values. `taken`: the owned names (ownedName) already live, when the caller read them.
   */
  async function createOne(
    actor: Actor,
    input: CreateSecretInput,
    taken?: ReadonlySet<string>,
  ): Promise<SecretMetadata> {
    const who = await resolve(actor);
    await assertCanCreate(who, 'secret.create');
    const issues: FieldIssue[] = [
      ...secretNameIssues(input.name),
      ...descriptionIssues(input.description ?? ''),
      ...labelIssues(input.labels ?? {}),
      ...(input.rotateEveryDays === undefined ? [] : rotateEveryIssues(input.rotateEveryDays)),
    ];
    const expiry = parseExpiresAt(input.expiresAt ?? null);
    if (!expiry.ok) issues.push(expiry.issue);
    let kind: Kind | undefined;
    let values: SecretValues | undefined;
    try {
      kind = kinds.require(input.kind);
      if (input.values === null || typeof input.values !== 'object' || Array.isArray(input.values)) {
        issues.push({ path: 'values', message: 'must be an object of field names to values' });
      } else {
        rejectMasks(kind, input.values);
        values = kind.validate(input.values);
      }
    } catch (err) {
      if (!isCofferError(err, 'validation')) throw err;
      issues.push(...(err.details.issues ?? []));
    }
    if (issues.length > 0 || kind === undefined || values === undefined) throw CofferError.validation(issues);
    assertValuesSize(values);

    let ownerId = who.id;
    if (input.ownerId !== undefined && input.ownerId !== who.id) {
      if (who.role !== 'admin')
        await refuse(who, 'secret.create', 'only admins create secrets for other users');
      const owner = await db
        .selectFrom('users')
        .select('id')
        .where('id', '=', input.ownerId)
        .executeTakeFirst();
      if (owner === undefined) throw CofferError.validation([{ path: 'ownerId', message: 'no such user' }]);
      ownerId = input.ownerId;
    }
    const backend = backends.active;
    // A taken name fails the secret's insert below (the unique index on the live name and
    // owner). Where the value goes in the same transaction (the sql backend) nothing is left
    // behind then, so a single create does not read the name first: one statement less, a
    // round trip on PostgreSQL. Elsewhere the read saves sealing and storing a value only to
    // delete it. A batch reads all its names at once and says which are taken (`taken`), so
    // an import run again over existing secrets seals nothing.
    const isTaken =
      taken !== undefined
        ? taken.has(ownedName(ownerId, input.name))
        : backend.transactional === undefined &&
          (await findSecretsByName(db, input.name, 'live')).some((r) => r.owner_id === ownerId);
    if (isTaken) throw new CofferError('already_exists', `a secret named "${input.name}" already exists`);

    const now = isoNow(clock);
    const row: SecretRow = {
      id: timeOrderedUuid(),
      owner_id: ownerId,
      name: input.name,
      live_name: input.name,
      kind: kind.id,
      description: input.description ?? '',
      current_version: 1,
      revision: 1,
      backend: backend.name,
      created_at: now,
      updated_at: now,
      created_by: who.id,
      updated_by: who.id,
      deleted_at: null,
      purge_after: null,
      // Without a word from the creator, the kind's habit applies (an API token: 90 days).
      ...reminderColumns({
        expiresAt: expiry.ok ? expiry.value : null,
        rotateEveryDays: input.rotateEveryDays === undefined ? kind.rotateEveryDays : input.rotateEveryDays,
        valuesChangedAt: now,
      }),
    };
    const labels = input.labels ?? {};
    await writeVersion(writerDeps, backend, { secretId: row.id, version: 1 }, values, async (tx) => {
      try {
        await writes.secret(tx, row);
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new CofferError('already_exists', `a secret named "${input.name}" already exists`);
        }
        throw err;
      }
      await writes.labels(tx, row.id, labels);
      await writes.version(tx, {
        secretId: row.id,
        version: 1,
        createdAt: now,
        createdBy: who.id,
        changedFields: Object.keys(values).sort(),
        rollbackOf: null,
      });
      const position = await audit.append(
        tx,
        secretAudit(who, 'secret.create', row, { details: { kind: kind.id, version: 1 } }),
      );
      await recordEvent(tx, position, 'secret.created', row, who, 1);
      return [];
    });
    events.changed();
    return toMetadata(row, effectiveAccess(who, row.owner_id, []), labels);
  }

  const service = {
    /** Creates a secret owned by the actor (admins may name another owner) with version 1 of its values. */
    create: (actor: Actor, input: CreateSecretInput): Promise<SecretMetadata> => createOne(actor, input),

    /**
     * Creates several secrets, each exactly as `create` would (its own checks, audit record and
     * event), and tells per entry what happened: one entry failing does not stop the others.
     * The writes share commits (inTransaction's group commit on SQLite), which is what makes an
     * import of many secrets fast. At most {@link maxBatchCreate} entries.
     */
    async createMany(actor: Actor, inputs: readonly CreateSecretInput[]): Promise<BatchCreateOutcome[]> {
      if (inputs.length > maxBatchCreate) {
        throw CofferError.validation([{ path: 'secrets', message: `at most ${maxBatchCreate} at a time` }]);
      }
      // One read of every name in the batch instead of one per secret (see createOne).
      const names = inputs.map((input) => input.name).filter((name) => typeof name === 'string');
      const live = await liveSecretNames(db, names);
      const taken = new Set(live.map((r) => ownedName(r.owner_id, r.name)));
      const settled = await Promise.allSettled(inputs.map((input) => createOne(actor, input, taken)));
      return settled.map((outcome, i): BatchCreateOutcome => {
        const name = inputs[i]!.name;
        if (outcome.status === 'fulfilled') return { name, created: true, secret: outcome.value };
        if (outcome.reason instanceof CofferError) return { name, created: false, error: outcome.reason };
        // Not one of ours (a database failure, say): `internal`, the original kept as its cause.
        const error = new CofferError('internal', 'the secret could not be created', {
          cause: outcome.reason,
        });
        return { name, created: false, error };
      });
    },

    /** A secret's metadata (needs `read`). `ref` is an id, or a name. */
    async get(actor: Actor, ref: string): Promise<SecretMetadata> {
      const who = await resolve(actor);
      const { row, access } = await authorize(db, audit, who, ref, 'get', 'any');
      await audit.appendStandalone(secretAudit(who, 'secret.read', row));
      return toMetadata(row, access);
    },

    /** Secrets the actor can see (`read` or better; admins see all), one page at a time. */
    async list(actor: Actor, filter: ListSecretsFilter = {}): Promise<Page<SecretMetadata>> {
      const who = await resolve(actor);
      return listPage(who, filter, 'read');
    },

    /**
     * Secrets the actor may `use` (including group shares that are not listed), e.g. the SMTP
     * servers the `system` group may send mail through.
     */
    async usable(actor: Actor, filter: { kind?: string } & PageRequest = {}): Promise<Page<SecretMetadata>> {
      const who = await resolve(actor);
      return listPage(who, { kind: filter.kind, cursor: filter.cursor, limit: filter.limit }, 'use');
    },

    /**
     * A version's values (default: the current one), secret fields masked unless `reveal` is
     * asked. Needs `read`; every reveal is audited before the values are returned.
     */
    async readValues(
      actor: Actor,
      ref: string,
      options: { reveal?: boolean; version?: number } = {},
    ): Promise<SecretValuesView> {
      const who = await resolve(actor);
      const reveal = options.reveal === true;
      const { row, sealedCurrent } = await authorize(
        db,
        audit,
        who,
        ref,
        reveal ? 'reveal' : 'readValues',
        'live',
        true,
      );
      const version = options.version ?? row.current_version;
      if (!Number.isInteger(version) || version < 1) {
        throw CofferError.validation([{ path: 'version', message: 'must be a positive integer' }]);
      }
      if (version !== row.current_version) await assertVersionKept(row, version);
      let stored: SecretValues;
      try {
        stored = await readKept(row, version, sealedCurrent);
      } catch (err) {
        await audit.appendStandalone(
          secretAudit(who, reveal ? 'secret.reveal' : 'secret.read', row, {
            outcome: 'failure',
            details: { version, code: isCofferError(err) ? err.code : 'internal' },
          }),
        );
        throw err;
      }
      const action = reveal ? 'secret.reveal' : 'secret.read';
      // Written (and committed) before the values are returned: a reveal that cannot be
      // audited fails.
      await audit.appendStandalone(secretAudit(who, action, row, { details: { version } }));
      if (reveal) return { secretId: row.id, version, values: stored, revealed: true, maskedFields: [] };
      const masked = maskValues(kindForDisplay(row.kind) as Kind, stored);
      return {
        secretId: row.id,
        version,
        values: masked.values,
        revealed: false,
        maskedFields: masked.maskedFields,
      };
    },

    /**
     * Values for server-side code acting on the principal's behalf (needs only `use`): the
     * mail sender, a connection test. The purpose is recorded in the audit log, which must
     * be written before the values are handed out.
     *
     * @example
     * const { values } = await secrets.use(asGroup(systemGroupId), 'smtp', { purpose: 'mail', kind: smtpKind });
     */
    async use<V extends SecretValues = SecretValues>(
      actor: Actor,
      ref: string,
      options: { purpose: string; kind?: Kind<V> },
    ): Promise<UsedSecret<V>> {
      const who = await resolve(actor);
      if (
        typeof options.purpose !== 'string' ||
        options.purpose.trim() === '' ||
        options.purpose.length > 200 ||
        hasControlCharacters(options.purpose)
      ) {
        throw CofferError.validation([
          {
            path: 'purpose',
            message: 'say why the secret is used (1 to 200 characters, no control characters)',
          },
        ]);
      }
      const { row, access, sealedCurrent } = await authorize(db, audit, who, ref, 'use', 'live', true);
      if (options.kind !== undefined && options.kind.id !== row.kind) {
        throw CofferError.validation([
          { path: 'kind', message: `secret "${row.name}" is of kind ${row.kind}, not ${options.kind.id}` },
        ]);
      }
      const values = await readKept(row, row.current_version, sealedCurrent);
      await audit.appendStandalone(
        secretAudit(who, 'secret.use', row, {
          purpose: options.purpose,
          details: { version: row.current_version },
        }),
      );
      return { secret: await toMetadata(row, access), version: row.current_version, values: values as V };
    },

    /**
     * Changes values: fields in `values` are set (a secret field sent as the mask keeps its
     * stored value), `removeKeys` are removed, the rest stay. Makes a new version unless
     * nothing changed. With `expectedVersion`, fails with `version_conflict` if another write
     * came first; without it, concurrent partial updates are applied one after the other.
     */
    async update(actor: Actor, ref: string, input: UpdateValuesInput): Promise<SecretMetadata> {
      const who = await resolve(actor);
      const issues: FieldIssue[] = [];
      if (
        input.values !== undefined &&
        (input.values === null || typeof input.values !== 'object' || Array.isArray(input.values))
      ) {
        issues.push({ path: 'values', message: 'must be an object of field names to values' });
      }
      if (
        input.removeKeys !== undefined &&
        (!Array.isArray(input.removeKeys) || input.removeKeys.some((k) => typeof k !== 'string'))
      ) {
        issues.push({ path: 'removeKeys', message: 'must be a list of field names' });
      }
      issues.push(...expectedVersionIssues(input.expectedVersion));
      if (issues.length > 0) throw CofferError.validation(issues);
      return writeNextVersion(
        who,
        ref,
        'update',
        input.expectedVersion,
        async (row, stored) => {
          const kind = kinds.require(row.kind);
          const values = kind.validate(mergeValues(kind, stored, input.values, input.removeKeys));
          assertValuesSize(values);
          return { values, rollbackOf: null };
        },
        (_row, changed) => ({ changedFields: changed }),
      );
    },

    /**
     * Changes description and/or labels (needs `write`); values and versions are untouched.
     * `expectedRevision` (or `expectedVersion`) makes it check-and-set.
     */
    async updateMetadata(actor: Actor, ref: string, input: UpdateMetadataInput): Promise<SecretMetadata> {
      const who = await resolve(actor);
      const issues: FieldIssue[] = [
        ...(input.description === undefined ? [] : descriptionIssues(input.description)),
        ...(input.labels === undefined ? [] : labelIssues(input.labels)),
        ...(input.rotateEveryDays === undefined ? [] : rotateEveryIssues(input.rotateEveryDays)),
        ...expectationIssues(input),
      ];
      const expiry = input.expiresAt === undefined ? undefined : parseExpiresAt(input.expiresAt);
      if (expiry !== undefined && !expiry.ok) issues.push(expiry.issue);
      if (issues.length > 0) throw CofferError.validation(issues);
      const changed = [
        ...(input.description !== undefined ? ['description'] : []),
        ...(input.labels !== undefined ? ['labels'] : []),
        ...(input.expiresAt !== undefined ? ['expiresAt'] : []),
        ...(input.rotateEveryDays !== undefined ? ['rotateEveryDays'] : []),
      ];
      const { updated, access } = await changeRecord(
        who,
        ref,
        'updateMetadata',
        input,
        async (tx, row, now) => {
          const reminders =
            expiry === undefined && input.rotateEveryDays === undefined
              ? {}
              : reminderColumns({
                  expiresAt: expiry?.ok === true ? expiry.value : row.expires_at,
                  rotateEveryDays:
                    input.rotateEveryDays === undefined ? row.rotate_every_days : input.rotateEveryDays,
                  // The rotation clock runs from the last values change, not from this edit.
                  valuesChangedAt: await valuesChangedAt(tx, row),
                });
          await tx
            .updateTable('secrets')
            .set({
              updated_at: now,
              updated_by: who.id,
              ...(input.description === undefined ? {} : { description: input.description }),
              ...reminders,
            })
            .where('id', '=', row.id)
            .execute();
          if (input.labels !== undefined) await replaceLabels(tx, row.id, input.labels);
          const position = await audit.append(
            tx,
            secretAudit(who, 'secret.update_metadata', row, { details: { fields: changed } }),
          );
          await recordEvent(tx, position, 'secret.updated', row, who, row.current_version);
          return { description: input.description ?? row.description, ...reminders };
        },
      );
      events.changed();
      return toMetadata(updated, access);
    },

    /** Renames a secret (needs `write`); its id, values and versions stay. */
    async rename(
      actor: Actor,
      ref: string,
      newName: string,
      options: { expectedVersion?: number; expectedRevision?: number } = {},
    ) {
      const who = await resolve(actor);
      const issues = [...secretNameIssues(newName, 'newName'), ...expectationIssues(options)];
      if (issues.length > 0) throw CofferError.validation(issues);
      const { updated, access, unchanged } = await changeRecord(
        who,
        ref,
        'rename',
        options,
        async (tx, row, now) => {
          try {
            await tx
              .updateTable('secrets')
              .set({ name: newName, live_name: newName, updated_at: now, updated_by: who.id })
              .where('id', '=', row.id)
              .execute();
          } catch (err) {
            if (isUniqueViolation(err))
              throw new CofferError('already_exists', `a secret named "${newName}" already exists`);
            throw err;
          }
          const position = await audit.append(
            tx,
            secretAudit(who, 'secret.rename', row, { details: { from: row.name, to: newName } }),
          );
          await recordEvent(
            tx,
            position,
            'secret.renamed',
            { ...row, name: newName },
            who,
            row.current_version,
          );
          return { name: newName, live_name: newName };
        },
        (row) => row.name === newName,
      );
      if (!unchanged) events.changed();
      return toMetadata(updated, access);
    },

    /** The kept versions, newest first (needs `read`). Never values. */
    async versions(actor: Actor, ref: string): Promise<SecretVersionInfo[]> {
      const who = await resolve(actor);
      const { row } = await authorize(db, audit, who, ref, 'versions');
      await audit.appendStandalone(secretAudit(who, 'secret.read', row, { details: { versions: true } }));
      return (await versionsOf(db, row.id)).map((v) => ({
        version: v.version,
        createdAt: v.created_at,
        createdBy: v.created_by,
        changedFields: JSON.parse(v.changed_fields) as string[],
        rollbackOf: v.rollback_of,
        current: v.version === row.current_version,
      }));
    },

    /** Makes a new version holding the values of an earlier kept one (needs `write`). */
    async rollback(
      actor: Actor,
      ref: string,
      toVersion: number,
      options: { expectedVersion?: number } = {},
    ): Promise<SecretMetadata> {
      const who = await resolve(actor);
      const issues = [
        ...(Number.isInteger(toVersion) && toVersion >= 1
          ? []
          : [{ path: 'toVersion', message: 'must be a positive integer' }]),
        ...expectedVersionIssues(options.expectedVersion),
      ];
      if (issues.length > 0) throw CofferError.validation(issues);
      return writeNextVersion(
        who,
        ref,
        'rollback',
        options.expectedVersion,
        async (row) => {
          if (toVersion === row.current_version) return null;
          await assertVersionKept(row, toVersion);
          return { values: await readStored(row, toVersion), rollbackOf: toVersion };
        },
        () => ({ rollbackOf: toVersion }),
      );
    },

    /**
     * Destroys the values of some kept versions for good (needs `write`, like writing enough new
     * versions to push old ones out), keeping the secret and its other versions: Vault's KV
     * `destroy`. Versions that are not kept are ignored; the current version may be destroyed too
     * (reads of it are then `not_found`, and the next write starts from empty values). The version
     * rows go in one transaction with the audit record (`secret.destroy_versions`) and the
     * `secret.updated` event; the values are deleted from the backend right after, journaled so a
     * crash in between finishes later. Resolves with the versions destroyed.
     *
     * @example
     * await coffer.secrets.destroyVersions(asUser(alice), 'smtp', [1, 2]);
     */
    async destroyVersions(
      actor: Actor,
      ref: string,
      versions: readonly number[],
      expect: WriteExpectation = {},
    ): Promise<{ secret: SecretMetadata; destroyed: number[] }> {
      const who = await resolve(actor);
      const issues = expectationIssues(expect);
      if (
        !Array.isArray(versions) ||
        versions.length === 0 ||
        versions.length > 1000 ||
        !versions.every((v) => Number.isInteger(v) && v >= 1)
      ) {
        issues.push({ path: 'versions', message: 'must be a list of 1 to 1000 version numbers' });
      }
      if (issues.length > 0) throw CofferError.validation(issues);
      const wanted = [...new Set(versions)];
      let destroyed: number[] = [];
      let backendName = '';
      const { updated, access } = await changeRecord(
        who,
        ref,
        'destroyVersions',
        expect,
        async (tx, row, now) => {
          // Read in the transaction that claimed the row: a migration may have moved the values.
          const current = await tx
            .selectFrom('secrets')
            .select('backend')
            .where('id', '=', row.id)
            .executeTakeFirstOrThrow();
          backendName = current.backend;
          destroyed = (
            await tx
              .selectFrom('secret_versions')
              .select('version')
              .where('secret_id', '=', row.id)
              .where('version', 'in', wanted)
              .execute()
          )
            .map((r) => r.version)
            .sort((a, b) => a - b);
          if (destroyed.length > 0) {
            await tx
              .deleteFrom('secret_versions')
              .where('secret_id', '=', row.id)
              .where('version', 'in', destroyed)
              .execute();
            await journalDeletes(database, tx, row.id, backendName, destroyed, now);
          }
          await tx
            .updateTable('secrets')
            .set({ updated_at: now, updated_by: who.id })
            .where('id', '=', row.id)
            .execute();
          const position = await audit.append(
            tx,
            secretAudit(who, 'secret.destroy_versions', row, {
              details: { versions: destroyed.map(String) },
            }),
          );
          if (destroyed.length > 0) {
            await recordEvent(tx, position, 'secret.updated', row, who, row.current_version);
          }
          return {};
        },
      );
      events.changed();
      const backend = backends.get(backendName);
      if (backend !== undefined && destroyed.length > 0) {
        await deleteJournaledValues(writerDeps, backend, updated.id, destroyed);
      }
      return { secret: await toMetadata(updated, access), destroyed };
    },

    /**
     * Moves a secret to the trash (needs `manage`): hidden from lists and reads, restorable
     * until its recovery window ends, and its name is free for a new secret at once.
     */
    async delete(actor: Actor, ref: string, expect: WriteExpectation = {}): Promise<SecretMetadata> {
      const who = await resolve(actor);
      const issues = expectationIssues(expect);
      if (issues.length > 0) throw CofferError.validation(issues);
      const { row, access } = await authorize(db, audit, who, ref, 'delete');
      assertExpectation(row, expect);
      return softDelete(who, row, access, expect);
    },

    /** Brings a deleted secret back (needs `manage`), optionally under a new name if its old one was reused. */
    async restore(
      actor: Actor,
      ref: string,
      options: { newName?: string } & WriteExpectation = {},
    ): Promise<SecretMetadata> {
      const who = await resolve(actor);
      const issues = [
        ...(options.newName === undefined ? [] : secretNameIssues(options.newName, 'newName')),
        ...expectationIssues(options),
      ];
      if (issues.length > 0) throw CofferError.validation(issues);
      const { row, access } = await authorize(db, audit, who, ref, 'restore', 'deleted');
      assertExpectation(row, options);
      const name = options.newName ?? row.name;
      const now = isoNow(clock);
      await inTransaction(database, async (tx) => {
        try {
          await tx
            .updateTable('secrets')
            .set((eb) => ({
              deleted_at: null,
              purge_after: null,
              name,
              live_name: name,
              revision: eb('revision', '+', 1),
              updated_at: now,
              updated_by: who.id,
            }))
            .where('id', '=', row.id)
            .execute();
        } catch (err) {
          if (isUniqueViolation(err)) {
            throw new CofferError(
              'already_exists',
              `a secret named "${name}" exists again; restore this one under a new name`,
            );
          }
          throw err;
        }
        const position = await audit.append(
          tx,
          secretAudit(who, 'secret.restore', row, { details: { name } }),
        );
        await recordEvent(tx, position, 'secret.restored', { ...row, name }, who, row.current_version);
      });
      const restored = {
        ...row,
        name,
        live_name: name,
        deleted_at: null,
        purge_after: null,
        revision: row.revision + 1,
        updated_at: now,
      };
      events.changed();
      return toMetadata(restored, access);
    },

    /** Deletes a secret and all its versions for good, live or in the trash (needs `manage`). */
    async purge(actor: Actor, ref: string, expect: WriteExpectation = {}): Promise<void> {
      const who = await resolve(actor);
      const issues = expectationIssues(expect);
      if (issues.length > 0) throw CofferError.validation(issues);
      const { row } = await authorize(db, audit, who, ref, 'purge', 'any');
      assertExpectation(row, expect);
      await purgeRow(who, row);
    },

    /**
     * Moves every secret the actor manages to the trash (for admins: every secret). Needs the
     * explicit confirmation `{ confirm: 'delete-all' }`. Returns how many were deleted.
     */
    async deleteAll(actor: Actor, options: { confirm?: string } = {}): Promise<{ deleted: number }> {
      const who = await resolve(actor);
      if (options.confirm !== 'delete-all') {
        throw new CofferError(
          'precondition_required',
          'deleting all secrets needs the confirmation "delete-all"',
          {
            details: { issues: [{ path: 'confirm', message: 'must be "delete-all"' }] },
          },
        );
      }
      await assertCanCreate(who, 'secret.delete_all');
      let deleted = 0;
      let cursor: string | null = null;
      do {
        const page = await listRows(who, { cursor, limit: 500 }, 'read');
        const shares = await sharesDeciding(who, page.page);
        for (const row of page.page) {
          const access = effectiveAccess(who, row.owner_id, shares.get(row.id) ?? []);
          if (!atLeast(access.level, 'manage')) continue;
          await softDelete(who, row, access);
          deleted++;
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
      await audit.appendStandalone({
        ...secretAudit(who, 'secret.delete_all', {}, { details: { deleted } }),
        target: { type: 'secret' },
      });
      return { deleted };
    },

    /** Purges deleted secrets whose recovery window has ended. Run periodically by the engine. */
    async purgeExpired(): Promise<{ purged: number }> {
      let purged = 0;
      for (;;) {
        const rows = await db
          .selectFrom('secrets')
          .selectAll()
          .where('purge_after', 'is not', null)
          .where('purge_after', '<=', isoNow(clock))
          .limit(100)
          .execute();
        if (rows.length === 0) return { purged };
        for (const row of rows) {
          await purgeRow(null, row);
          purged++;
        }
      }
    },
  };
  return service;

  async function softDelete(
    who: ResolvedActor,
    row: SecretRow,
    access: EffectiveAccess,
    expect: WriteExpectation = {},
  ): Promise<SecretMetadata> {
    const conditional = expect.expectedVersion !== undefined || expect.expectedRevision !== undefined;
    const now = clock();
    const deletedAt = now.toISOString();
    const purgeAfter = new Date(now.getTime() + settings.recoveryWindowSeconds * 1000).toISOString();
    await inTransaction(database, async (tx: Tx) => {
      const result = await tx
        .updateTable('secrets')
        .set((eb) => ({
          deleted_at: deletedAt,
          purge_after: purgeAfter,
          live_name: null,
          revision: eb('revision', '+', 1),
          updated_at: deletedAt,
          updated_by: who.id,
        }))
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null)
        // Conditional: nothing may have changed since the expectation was checked on `row`.
        .$if(conditional, (q) => q.where('revision', '=', row.revision))
        .executeTakeFirst();
      if (conditional && result.numUpdatedRows !== 1n) {
        throw new CofferError('version_conflict', `secret "${row.name}" changed while it was being deleted`, {
          details: { ...expect, currentVersion: row.current_version },
        });
      }
      assertOneRow(result, `secret "${row.name}"`);
      const position = await audit.append(
        tx,
        secretAudit(who, 'secret.delete', row, { details: { purgeAfter } }),
      );
      await recordEvent(tx, position, 'secret.deleted', row, who, row.current_version);
    });
    const deleted = {
      ...row,
      live_name: null,
      deleted_at: deletedAt,
      purge_after: purgeAfter,
      revision: row.revision + 1,
      updated_at: deletedAt,
    };
    events.changed();
    return toMetadata(deleted, access);
  }

  /** A page of the secrets the actor may list, validated and in (name, id) order, without access. */
  async function listRows(
    who: ResolvedActor,
    filter: ListSecretsFilter,
    minimum: 'use' | 'read',
  ): Promise<{ page: SecretRow[]; nextCursor: string | null }> {
    const limit = pageLimit(filter);
    const issues: FieldIssue[] = [];
    const labels = (filter.labels ?? []).map((spec, i) => {
      const eq = spec.indexOf('=');
      const label = eq === -1 ? { name: spec } : { name: spec.slice(0, eq), value: spec.slice(eq + 1) };
      if (label.name === '') issues.push({ path: `labels.${i}`, message: 'use "name" or "name=value"' });
      return label;
    });
    if (
      filter.namePrefix !== undefined &&
      filter.namePrefix !== '' &&
      !/^[A-Za-z0-9_-]{1,128}$/.test(filter.namePrefix)
    ) {
      issues.push({ path: 'namePrefix', message: "may contain only letters, digits, '_' and '-'" });
    }
    const state = filter.state ?? 'live';
    if (!['live', 'deleted', 'all'].includes(state))
      issues.push({ path: 'state', message: 'is live, deleted or all' });
    const view = filter.view ?? 'accessible';
    if (!['accessible', 'mine'].includes(view))
      issues.push({ path: 'view', message: 'is accessible or mine' });
    if (issues.length > 0) throw CofferError.validation(issues);
    const after =
      filter.cursor === undefined || filter.cursor === null
        ? undefined
        : (([name, id]) => ({ name: name as string, id: id as string }))(
            decodeCursor(filter.cursor, ['string', 'string']),
          );
    // Trash listings only show what the actor could restore.
    const rows = await listSecrets(db, {
      actor: who,
      mine: view === 'mine',
      minimumShareLevel: minimum,
      ...(filter.kind === undefined ? {} : { kind: filter.kind }),
      labels,
      ...(filter.namePrefix === undefined ? {} : { namePrefix: filter.namePrefix }),
      state,
      ...(after === undefined ? {} : { after }),
      limit: limit + 1,
      features: database.features,
      reachMemory,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      page,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.name, last.id]) : null,
    };
  }

  /**
   * The shares that decide the actor's access to a page's secrets: only where it neither
   * administers nor owns the secret (effectiveAccess), so an admin's or an owner's page reads none.
   */
  function sharesDeciding(who: ResolvedActor, page: readonly SecretRow[]) {
    const sharesMatter = who.type === 'group' || who.role !== 'admin';
    return sharesOf(
      db,
      sharesMatter ? page.filter((r) => who.type === 'group' || r.owner_id !== who.id).map((r) => r.id) : [],
    );
  }

  async function listPage(
    who: ResolvedActor,
    filter: ListSecretsFilter,
    minimum: 'use' | 'read',
  ): Promise<Page<SecretMetadata>> {
    const { page, nextCursor } = await listRows(who, filter, minimum);
    // The page's shares and labels are read, and its audit record committed, at once: on
    // PostgreSQL each is a round trip on a connection of its own (docs/performance.md). The
    // audit record is still committed before the page is returned, and a failed one fails it.
    const [shares, labels] = await Promise.all([
      sharesDeciding(who, page),
      labelsOf(
        db,
        page.map((r) => r.id),
      ),
      audit.appendStandalone(
        secretAudit(who, 'secret.list', {}, { details: { count: page.length, minimum } }),
      ),
    ]);
    return {
      items: page.map((row) =>
        metadataOf(row, effectiveAccess(who, row.owner_id, shares.get(row.id) ?? []), labels.get(row.id)!),
      ),
      nextCursor,
    };
  }
}

export type SecretService = ReturnType<typeof createSecretService>;

/** A live name as its owner holds it: names are unique per owner. */
function ownedName(ownerId: string, name: string): string {
  return `${ownerId}/${name}`;
}

/** A secret's metadata as callers see it, from its row, the caller's access and its labels. */
function metadataOf(row: SecretRow, access: EffectiveAccess, labels: Labels): SecretMetadata {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    description: row.description,
    labels,
    ownerId: row.owner_id,
    currentVersion: row.current_version,
    revision: row.revision,
    backend: row.backend,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    deletedAt: row.deleted_at,
    purgeAfter: row.purge_after,
    expiresAt: row.expires_at,
    rotateEveryDays: row.rotate_every_days,
    rotationDueAt: row.rotation_due_at,
    access: { level: access.level, basis: access.basis },
  };
}

function expectedVersionIssues(expectedVersion: unknown): FieldIssue[] {
  if (expectedVersion === undefined) return [];
  return Number.isInteger(expectedVersion) && (expectedVersion as number) >= 1
    ? []
    : [{ path: 'expectedVersion', message: 'must be a positive integer' }];
}

function expectationIssues(expect: { expectedVersion?: unknown; expectedRevision?: unknown }): FieldIssue[] {
  const revision = expect.expectedRevision;
  return [
    ...expectedVersionIssues(expect.expectedVersion),
    ...(revision === undefined || (Number.isInteger(revision) && (revision as number) >= 1)
      ? []
      : [{ path: 'expectedRevision', message: 'must be a positive integer' }]),
  ];
}

/** What a check-and-set write expects of the secret (the ETag's version and revision). */
export interface WriteExpectation {
  expectedVersion?: number | undefined;
  expectedRevision?: number | undefined;
}

/** Check-and-set on a record change: the version and/or revision the writer saw must still hold. */
function assertExpectation(
  row: SecretRow,
  expect: { expectedVersion?: number | undefined; expectedRevision?: number | undefined },
): void {
  const { expectedVersion, expectedRevision } = expect;
  const versionMoved = expectedVersion !== undefined && row.current_version !== expectedVersion;
  const revisionMoved = expectedRevision !== undefined && row.revision !== expectedRevision;
  if (!versionMoved && !revisionMoved) return;
  const message = versionMoved
    ? `secret "${row.name}" is at version ${row.current_version}, not ${expectedVersion}`
    : `secret "${row.name}" changed since revision ${expectedRevision} (now ${row.revision})`;
  throw new CofferError('version_conflict', message, {
    details: {
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      ...(expectedRevision === undefined ? {} : { expectedRevision }),
      currentVersion: row.current_version,
      currentRevision: row.revision,
    },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
