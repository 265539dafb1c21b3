import { chmod, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CofferError, isCofferError } from '../../errors/coffer-error.js';
import { errorCode } from '../../keyring/atomic-file.js';
import { isKeySourceOutage } from '../../keyring/key-source-failure.js';
import type { Keyring } from '../../keyring/keyring-types.js';
import type { SecretValues } from '../../kinds/kind-types.js';
import type { Logger } from '../../logging/logger.js';
import { pooledRandomBytes } from '../../shared/random-pool.js';
import type { Backend, BackendContext, BackendDefinition, ValueRef } from '../backend.js';
import { defineBackend } from '../backend.js';
import {
  assertOwnedValue,
  assertValueRef,
  isSecretId,
  type OwnerContext,
  ownerLabels,
} from '../external-names.js';
import { decodeValues, encodeValues } from '../value-codec.js';
import { createDirectoryMaking } from './directory-making.js';
import { createDirectorySyncs } from './directory-syncs.js';
import { decodeFileBlob, encodeFileBlob } from './file-blob.js';

const fileBackendConfig = z
  .object({
    /**
     * The directory holding the value files; relative paths resolve against the data
     * directory. Defaults to `<dataDir>/backends/<instance name>`.
     */
    directory: z.string().min(1).optional(),
    /**
     * Flush every file and directory change to disk before a write counts as done (the
     * default). Switch off only for data you can lose on a power cut.
     */
    fsync: z.boolean().default(true),
  })
  .strict();

export type FileBackendConfig = z.infer<typeof fileBackendConfig>;

const capabilities = { versioning: true, listing: true, labels: true, envelope: true } as const;

/** Temporary files older than this are left over from a crash and removed when seen. */
const staleTempMs = 10 * 60_000;
/** Most directories `prepareSecrets` remembers as made, waiting for their puts. */
const maxPreparedDirectories = 5_000;
const valueSuffix = '.cfv';
const valueFilePattern = /^([1-9][0-9]{0,15})\.cfv$/;
const tempFilePattern = /^\..*\.tmp$/;
const shardPattern = /^[0-9a-f]{2}$/;

/**
 * Values as encrypted files: one file per secret version, sealed with Coffer's keyring exactly
 * like the `sql` backend, under `<directory>/<clusterPrefix>/<id[0..2]>/<secret id>/<version>.cfv`.
 * Writes are atomic (write a temporary file, fsync, rename, fsync the directory), so a crash
 * leaves the old file or the new one, never a torn one. Directories are 0700, files 0600.
 * Each file carries owner labels; a file another deployment wrote is refused.
 *
 * @example
 * backends: { files: { type: 'file', directory: '/var/lib/coffer/values' } }, backend: 'files'
 */
export const fileBackendDefinition: BackendDefinition<FileBackendConfig> = defineBackend({
  id: 'file',
  displayName: 'Encrypted files',
  description:
    "One encrypted file per secret version in a directory, sealed with Coffer's keyring like the sql backend.",
  configSchema: fileBackendConfig,
  capabilities,
  create: async (config, context) => {
    const root = resolve(context.dataDir, config.directory ?? join('backends', context.name));
    const space = join(root, context.clusterPrefix);
    for (const dir of [root, space]) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        // A directory that already existed keeps its mode; values must not be readable by others.
        await chmod(dir, 0o700);
      } catch (err) {
        const message = `cannot prepare ${dir} with mode 0700 (${errorCode(err) ?? 'error'})`;
        throw new CofferError('invalid_config', `backends.${context.name}.directory: ${message}`, {
          cause: err,
          details: { issues: [{ path: `backends.${context.name}.directory`, message }] },
        });
      }
    }
    return new FileBackend(context, space, config.fsync);
  },
});

class FileBackend implements Backend {
  readonly type = 'file';
  readonly capabilities = capabilities;
  readonly name: string;
  readonly #space: string;
  readonly #fsync: boolean;
  readonly #keyring: Keyring;
  readonly #owner: OwnerContext;
  readonly #logger: Logger;
  /** Concurrent writers in one directory share its fsyncs (each after its own change). */
  readonly #directories = createDirectorySyncs();
  /**
   * Concurrent puts (and batches) making directories in the same place: none is answered
   * before every directory it writes into is durable, whoever made it.
   */
  readonly #making = createDirectoryMaking({
    make: (dir) => mkdir(dir, { recursive: true, mode: 0o700 }),
    flush: (dir, created) => {
      if (created !== undefined) return this.#recordCreated(dir, created);
      // Looked up after mkdir: a batch registers its directories before making any of them.
      const preparing = this.#preparing.get(dir);
      return preparing === undefined ? Promise.resolve() : this.#afterPrepared(dir, preparing);
    },
    // A put makes at most the secret's directory and its shard directory.
    levels: (dir) => [dir, dirname(dir)],
  });
  /**
   * Secret directories `prepareSecrets` is making, until their parents are flushed (true) or
   * that failed (false): a put that finds one of them already there waits for it.
   */
  readonly #preparing = new Map<string, Promise<boolean>>();
  /** Directories a batch made and flushed whose put has not come yet: it skips its mkdir. */
  readonly #prepared = new Set<string>();

  constructor(context: BackendContext, space: string, fsync: boolean) {
    this.name = context.name;
    this.#space = space;
    this.#fsync = fsync;
    this.#keyring = context.keyring;
    this.#owner = { deploymentId: context.deploymentId, clusterPrefix: context.clusterPrefix };
    this.#logger = context.logger;
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const { blob } = await this.#keyring.seal(encodeValues(values), ref);
    const bytes = encodeFileBlob({ labels: ownerLabels(this.#owner, ref), envelope: blob });
    try {
      await this.#writeAtomic(ref, bytes);
    } catch (err) {
      throw this.#fsError('write', ref, err);
    }
  }

  /**
   * Makes the directories of secrets about to be written in one batch and flushes each parent
   * once (with ids in order, hundreds of secrets share a few shard directories), where a put
   * that makes its own directory flushes the parent for itself.
   */
  async prepareSecrets(secretIds: readonly string[]): Promise<void> {
    if (!this.#fsync) return;
    const dirs = [...new Set(secretIds.filter(isSecretId).map((id) => this.#secretDir(id)))].filter(
      (dir) => !this.#preparing.has(dir),
    );
    if (dirs.length === 0) return;
    let settle!: (flushed: boolean) => void;
    const outcome = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    // Registered before any of them exists, so no put can find one without finding this; a
    // put making a directory of its own beside them waits for the shard directories' flushes.
    for (const dir of dirs) this.#preparing.set(dir, outcome);
    const shardsDurable = this.#making.hold([...new Set(dirs.map((dir) => dirname(dir)))]);
    let flushed = false;
    try {
      const parents = new Set<string>();
      for (const dir of dirs) {
        const created = await mkdir(dir, { recursive: true, mode: 0o700 });
        if (created === undefined) continue;
        for (let d = dir; ; d = dirname(d)) {
          parents.add(dirname(d));
          if (d === created || d === this.#space) break;
        }
      }
      await Promise.all([...parents].map((parent) => this.#directories.sync(parent)));
      flushed = true;
      // Bounded: batches whose puts never came (a run stopped) must not pile up.
      if (this.#prepared.size + dirs.length > maxPreparedDirectories) this.#prepared.clear();
      for (const dir of dirs) this.#prepared.add(dir);
    } catch (err) {
      shardsDurable(err);
      throw this.#fsError('prepare', undefined, err);
    } finally {
      if (flushed) shardsDurable();
      settle(flushed);
      for (const dir of dirs) if (this.#preparing.get(dir) === outcome) this.#preparing.delete(dir);
    }
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#valuePath(ref));
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new CofferError(
          'value_not_found',
          `backend ${this.name} holds no value for secret ${ref.secretId} version ${ref.version}`,
        );
      }
      throw this.#fsError('read', ref, err);
    }
    const blob = decodeFileBlob(bytes, ref, this.name);
    assertOwnedValue(blob.labels, this.#owner, ref, this.name);
    return decodeValues(await this.#keyring.open(blob.envelope, ref), ref);
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const dir = this.#secretDir(ref.secretId);
    try {
      await unlink(this.#valuePath(ref));
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.#fsError('delete', ref, err);
    }
    try {
      if (this.#fsync) await this.#directories.sync(dir);
      // The secret's directory goes with its last version; a concurrent put makes it again.
      await rmdir(dir);
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT')
        throw this.#fsError('delete', ref, err);
    }
  }

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    const limit = options.limit ?? 1000;
    if (options.secretId !== undefined && !isSecretId(options.secretId)) {
      throw CofferError.validation([{ path: 'secretId', message: 'must be a lowercase UUID' }]);
    }
    const refs: ValueRef[] = [];
    for await (const ref of this.#walk(options)) {
      refs.push(ref);
      if (refs.length >= limit) break;
    }
    return refs;
  }

  async rewrap(onProgress?: (done: number) => void): Promise<{ rewrapped: number; failed: number }> {
    let rewrapped = 0;
    let failed = 0;
    for await (const ref of this.#walk()) {
      try {
        const path = this.#valuePath(ref);
        const before = await stat(path);
        const blob = decodeFileBlob(await readFile(path), ref, this.name);
        const next = await this.#keyring.rewrap(blob.envelope, ref);
        if (next === null) continue;
        const bytes = encodeFileBlob({ labels: blob.labels, envelope: next.blob });
        if (await this.#writeAtomic(ref, bytes, before)) rewrapped++;
        if (rewrapped % 100 === 0) onProgress?.(rewrapped);
      } catch (err) {
        if (errorCode(err) === 'ENOENT') continue;
        // A key source that cannot be reached stops the run; it resumes later.
        if (isKeySourceOutage(err)) throw err;
        // One damaged file must not stop the others from moving to the current key.
        failed++;
        this.#logger.warn(
          { err, secretId: ref.secretId, version: ref.version, backend: this.name },
          'could not re-wrap a value',
        );
      }
    }
    onProgress?.(rewrapped);
    return { rewrapped, failed };
  }

  async referencedKeyIds(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const ref of this.#walk()) {
      try {
        const blob = decodeFileBlob(await readFile(this.#valuePath(ref)), ref, this.name);
        ids.add(this.#keyring.kekIdOf(blob.envelope));
      } catch (err) {
        if (errorCode(err) !== 'ENOENT' && !isCofferError(err)) throw err;
      }
    }
    return [...ids];
  }

  /**
   * The stored refs in (secretId, version) order, of one secret or all, after `after`. A full
   * walk (key re-wrap, the keys in use) reads each shard directory once; a page of `list`
   * reads its shard again, and with time-ordered ids (UUID v7, whose first two characters
   * change once in decades) every new secret is in the same shard, so walks never page.
   */
  async *#walk(from: { secretId?: string; after?: ValueRef } = {}): AsyncGenerator<ValueRef> {
    const { secretId: only, after } = from;
    const read = <T>(work: Promise<T>): Promise<T> =>
      work.catch((err: unknown) => {
        throw this.#fsError('list', undefined, err);
      });
    const shards =
      only !== undefined
        ? [only.slice(0, 2)]
        : (await read(readdirOrEmpty(this.#space))).filter((s) => shardPattern.test(s)).sort();
    for (const shard of shards) {
      if (after !== undefined && shard < after.secretId.slice(0, 2)) continue;
      const ids =
        only !== undefined
          ? [only]
          : (await read(readdirOrEmpty(join(this.#space, shard)))).filter(isSecretId).sort();
      for (const secretId of ids) {
        if (after !== undefined && secretId < after.secretId) continue;
        for (const version of await read(this.#versionsOf(secretId))) {
          if (after !== undefined && secretId === after.secretId && version <= after.version) continue;
          yield { secretId, version };
        }
      }
    }
  }

  #secretDir(secretId: string): string {
    return join(this.#space, secretId.slice(0, 2), secretId);
  }

  #valuePath(ref: ValueRef): string {
    return join(this.#secretDir(ref.secretId), `${ref.version}${valueSuffix}`);
  }

  /** The versions stored for a secret, ascending; removes temporaries a crash left behind. */
  async #versionsOf(secretId: string): Promise<number[]> {
    const dir = this.#secretDir(secretId);
    const versions: number[] = [];
    for (const entry of await readdirOrEmpty(dir)) {
      const match = valueFilePattern.exec(entry);
      if (match !== null) {
        versions.push(Number(match[1]));
      } else if (tempFilePattern.test(entry)) {
        await removeIfStale(join(dir, entry));
      }
    }
    return versions.sort((a, b) => a - b);
  }

  /**
   * Writes a value file atomically. With `unchangedSince`, the file is only replaced if it is
   * still the one that was read (a re-wrap must not overwrite a concurrent put); returns
   * whether it was written.
   */
  async #writeAtomic(
    ref: ValueRef,
    bytes: Buffer,
    unchangedSince?: { ino: number; size: number; mtimeMs: number },
  ): Promise<boolean> {
    const dir = this.#secretDir(ref.secretId);
    const target = this.#valuePath(ref);
    // The fsyncs recording directories made for this write in their parents run while the
    // file is written; the write counts as done only once they (and its own) are done.
    const parentSyncs: Promise<void>[] = [];
    try {
      return await this.#writeFile(dir, target, ref, bytes, parentSyncs, unchangedSince);
    } finally {
      const synced = await Promise.allSettled(parentSyncs);
      const failed = synced.find((r) => r.status === 'rejected');
      // biome-ignore lint/correctness/noUnsafeFinally: a write whose directory is not durable failed
      if (failed !== undefined) throw failed.reason;
    }
  }

  async #writeFile(
    dir: string,
    target: string,
    ref: ValueRef,
    bytes: Buffer,
    parentSyncs: Promise<void>[],
    unchangedSince?: { ino: number; size: number; mtimeMs: number },
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      // A concurrent delete of the secret's last version may remove the directory at any
      // moment; the steps below then fail with ENOENT and are tried again.
      const retry = (err: unknown) => errorCode(err) === 'ENOENT' && attempt < 10;
      // A directory a batch made and flushed is there, unless a delete removed it since: then
      // the open below fails and the next attempt makes it again.
      if (!(attempt === 1 && this.#prepared.delete(dir))) {
        if (this.#fsync) parentSyncs.push((await this.#making.make(dir)).durable);
        else await mkdir(dir, { recursive: true, mode: 0o700 });
      }
      const temp = join(dir, `.${ref.version}.${process.pid}.${pooledRandomBytes(6).toString('hex')}.tmp`);
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(temp, 'wx', 0o600);
      } catch (err) {
        if (retry(err)) continue;
        throw err;
      }
      try {
        await handle.writeFile(bytes);
        if (this.#fsync) await handle.sync();
      } catch (err) {
        await handle.close().catch(() => {});
        await rm(temp, { force: true });
        throw err;
      }
      await handle.close();
      if (unchangedSince !== undefined) {
        const now = await stat(target).catch(() => undefined);
        if (
          now === undefined ||
          now.ino !== unchangedSince.ino ||
          now.size !== unchangedSince.size ||
          now.mtimeMs !== unchangedSince.mtimeMs
        ) {
          await rm(temp, { force: true });
          return false;
        }
      }
      try {
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true });
        if (retry(err)) continue;
        throw err;
      }
      if (this.#fsync) await this.#directories.sync(dir);
      return true;
    }
  }

  /** Records every directory `mkdir` just made (`created` down to `dir`) durably in its parent. */
  async #recordCreated(dir: string, created: string): Promise<void> {
    for (let d = dir; ; d = dirname(d)) {
      await this.#directories.sync(dirname(d));
      if (d === created || d === this.#space) return;
    }
  }

  /**
   * Waits for the `prepareSecrets` batch that made `dir` to flush its parents; if that failed,
   * flushes them itself (the shard directory, then the space holding it).
   */
  async #afterPrepared(dir: string, preparing: Promise<boolean>): Promise<void> {
    if (await preparing) return;
    await this.#recordCreated(dir, dirname(dir));
  }

  #fsError(operation: string, ref: ValueRef | undefined, err: unknown): CofferError {
    if (isCofferError(err)) return err;
    const what = ref === undefined ? '' : ` secret ${ref.secretId} version ${ref.version}`;
    return new CofferError(
      'backend_unavailable',
      `backend ${this.name} cannot ${operation}${what} (${errorCode(err) ?? 'error'})`,
      { cause: err },
    );
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  }
}

async function removeIfStale(path: string): Promise<void> {
  try {
    if (Date.now() - (await stat(path)).mtimeMs > staleTempMs) await rm(path, { force: true });
  } catch {
    // gone already, or not ours to remove: either way nothing to do
  }
}
