import type { Kysely } from 'kysely';
import { z } from 'zod';
import { CofferError } from '../../errors/coffer-error.js';
import { isKeySourceOutage } from '../../keyring/key-source-failure.js';
import type { SecretValues } from '../../kinds/kind-types.js';
import { preparedQuery } from '../../storage/prepared.js';
import type { CofferTables, SecretValueRow } from '../../storage/schema.js';
import type {
  Backend,
  BackendContext,
  BackendDefinition,
  TransactionalWrites,
  ValueRef,
} from '../backend.js';
import { defineBackend } from '../backend.js';
import { decodeValues, encodeValues } from '../value-codec.js';

const sqlBackendConfig = z.object({}).strict();

const capabilities = { versioning: true, listing: true, labels: false, envelope: true } as const;

/**
 * The default backend: values sealed with the keyring, stored in Coffer's own database
 * (table `secret_values`), so a fresh install needs nothing else.
 */
export const sqlBackendDefinition: BackendDefinition<z.infer<typeof sqlBackendConfig>> = defineBackend({
  id: 'sql',
  displayName: 'Coffer database',
  description: "Values sealed with Coffer's keyring and stored in its own SQL database (the default).",
  configSchema: sqlBackendConfig,
  capabilities,
  create: (_config, context) => new SqlBackend(context),
});

class SqlBackend implements Backend {
  readonly type = 'sql';
  readonly capabilities = capabilities;
  readonly name: string;
  readonly #context: BackendContext;

  constructor(context: BackendContext) {
    this.name = context.name;
    this.#context = context;
  }

  /** Writes that join the engine's metadata transaction: the value commits with its version. */
  readonly transactional: TransactionalWrites = {
    preparePut: async (ref, values) => {
      const row = await this.#sealedRow(ref, values);
      return async (tx) => {
        await this.#upsert(tx, row);
      };
    },
    deleteVersions: async (tx, secretId, versions) => {
      // Usually the one version an update drops past `versions.keep`.
      for (const version of versions) await this.#deleteStatement.execute(tx, this.name, secretId, version);
    },
    openSealed: (blob, ref) => this.#open(blob, ref),
  };

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    await this.#upsert(this.#context.database.db, await this.#sealedRow(ref, values));
  }

  async #sealedRow(ref: ValueRef, values: SecretValues): Promise<SecretValueRow> {
    const { kekId, blob } = await this.#context.keyring.seal(encodeValues(values), ref);
    return {
      store: this.name,
      secret_id: ref.secretId,
      version: ref.version,
      kek_id: kekId,
      blob,
      created_at: this.#context.clock().toISOString(),
    };
  }

  /** Putting the same ref again replaces it (a retried write). Compiled once (see preparedQuery). */
  readonly #upsertStatement = preparedQuery(
    (store: string, secretId: string, version: number, kekId: string, blob: Buffer, createdAt: string) => {
      const insert = this.#context.database.db.insertInto('secret_values').values({
        store,
        secret_id: secretId,
        version,
        kek_id: kekId,
        blob,
        created_at: createdAt,
      });
      const changes = { kek_id: kekId, blob, created_at: createdAt };
      return this.#context.database.features.duplicateKeyUpsert
        ? insert.onDuplicateKeyUpdate(changes)
        : insert.onConflict((oc) => oc.columns(['store', 'secret_id', 'version']).doUpdateSet(changes));
    },
  );

  async #upsert(db: Kysely<CofferTables>, row: SecretValueRow): Promise<void> {
    await this.#upsertStatement.execute(
      db,
      row.store,
      row.secret_id,
      row.version,
      row.kek_id,
      row.blob,
      row.created_at,
    );
  }

  /** Every reveal's read, compiled once (see preparedQuery). */
  readonly #blobStatement = preparedQuery((store: string, secretId: string, version: number) =>
    this.#context.database.db
      .selectFrom('secret_values')
      .select('blob')
      .where('store', '=', store)
      .where('secret_id', '=', secretId)
      .where('version', '=', version),
  );

  async get(ref: ValueRef): Promise<SecretValues> {
    const db = this.#context.database.db;
    const row = (await this.#blobStatement.execute(db, this.name, ref.secretId, ref.version)).rows[0];
    if (row === undefined) {
      throw new CofferError('value_not_found', `backend ${this.name} holds no value for ${describe(ref)}`);
    }
    return this.#open(row.blob, ref);
  }

  async #open(blob: Uint8Array, ref: ValueRef): Promise<SecretValues> {
    return decodeValues(await this.#context.keyring.open(Buffer.from(blob), ref), ref);
  }

  async delete(ref: ValueRef): Promise<void> {
    await this.#deleteStatement.execute(this.#context.database.db, this.name, ref.secretId, ref.version);
  }

  /** Every update past `versions.keep` deletes a value: compiled once (see preparedQuery). */
  readonly #deleteStatement = preparedQuery((store: string, secretId: string, version: number) =>
    this.#context.database.db
      .deleteFrom('secret_values')
      .where('store', '=', store)
      .where('secret_id', '=', secretId)
      .where('version', '=', version),
  );

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    let query = this.#context.database.db
      .selectFrom('secret_values')
      .select(['secret_id', 'version'])
      .where('store', '=', this.name);
    if (options.secretId !== undefined) query = query.where('secret_id', '=', options.secretId);
    const after = options.after;
    if (after !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('secret_id', '>', after.secretId),
          eb.and([eb('secret_id', '=', after.secretId), eb('version', '>', after.version)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('secret_id')
      .orderBy('version')
      .limit(options.limit ?? 1000)
      .execute();
    return rows.map((r) => ({ secretId: r.secret_id, version: r.version }));
  }

  async rewrap(onProgress?: (done: number) => void): Promise<{ rewrapped: number; failed: number }> {
    const { db } = this.#context.database;
    const keyring = this.#context.keyring;
    let rewrapped = 0;
    let failed = 0;
    // Keyset order, so a blob that cannot be re-wrapped (tampered) is passed over once
    // instead of being selected again forever; it fails alone, as it does on read.
    let after: ValueRef | undefined;
    for (;;) {
      let query = db
        .selectFrom('secret_values')
        .select(['secret_id', 'version', 'kek_id', 'blob'])
        .where('store', '=', this.name)
        .where('kek_id', '!=', keyring.currentKeyId);
      const from = after;
      if (from !== undefined) {
        query = query.where((eb) =>
          eb.or([
            eb('secret_id', '>', from.secretId),
            eb.and([eb('secret_id', '=', from.secretId), eb('version', '>', from.version)]),
          ]),
        );
      }
      const batch = await query.orderBy('secret_id').orderBy('version').limit(200).execute();
      if (batch.length === 0) return { rewrapped, failed };
      for (const row of batch) {
        const ref = { secretId: row.secret_id, version: row.version };
        after = ref;
        let next: Awaited<ReturnType<typeof keyring.rewrap>>;
        try {
          next = await keyring.rewrap(Buffer.from(row.blob), ref);
        } catch (err) {
          // A key source that cannot be reached stops the run (it resumes later); counting
          // every remaining value as failed would only hide the outage.
          if (isKeySourceOutage(err)) throw err;
          failed++;
          this.#context.logger.warn(
            { err, secretId: ref.secretId, version: ref.version },
            'could not re-wrap a value',
          );
          continue;
        }
        if (next === null) continue;
        // Conditional on the old key id: a concurrent put of the same ref wins over the re-wrap.
        await db
          .updateTable('secret_values')
          .set({ kek_id: next.kekId, blob: next.blob })
          .where('store', '=', this.name)
          .where('secret_id', '=', row.secret_id)
          .where('version', '=', row.version)
          .where('kek_id', '=', row.kek_id)
          .execute();
        rewrapped++;
      }
      onProgress?.(rewrapped);
    }
  }

  async referencedKeyIds(): Promise<string[]> {
    const rows = await this.#context.database.db
      .selectFrom('secret_values')
      .select('kek_id')
      .distinct()
      .where('store', '=', this.name)
      .execute();
    return rows.map((r) => r.kek_id);
  }
}

function describe(ref: ValueRef): string {
  return `secret ${ref.secretId} version ${ref.version}`;
}
