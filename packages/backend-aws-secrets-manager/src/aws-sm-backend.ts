import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  PutSecretValueCommand,
  RestoreSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  type AwsClientLike,
  awsCaller,
  compareRefs,
  failureKind,
  pageOfRefs,
  RefListing,
  StoreFailure,
  translateStoreFailures,
} from '@coffer/aws-store-kit';
import {
  assertOwnedValue,
  assertValueRef,
  type Backend,
  type BackendCapabilities,
  type BackendContext,
  type BackendLimits,
  CofferError,
  createRateLimiter,
  decodeValues,
  encodeValues,
  type SecretValues,
  type ValueRef,
  valueNotFound,
  valueTooLarge,
} from '@coffer/core';
import {
  type AwsSecretsManagerConfig,
  defaultRecoveryWindowDays,
  defaultWritesPerSecond,
} from './aws-sm-config.js';
import { secretsManagerServiceErrors } from './aws-sm-errors.js';
import {
  labelsFromTags,
  ownerTags,
  secretIdOf,
  secretNameOf,
  versionOfStage,
  versionStage,
} from './aws-sm-names.js';

/** The backend type id. */
export const awsSecretsManagerType = 'aws-secrets-manager';

/** What the backend can do: every version kept (as staging labels), listing, owner tags; AWS KMS encrypts. */
export const awsSecretsManagerCapabilities: BackendCapabilities = Object.freeze({
  versioning: true,
  listing: true,
  labels: true,
  envelope: false,
});

/** The SecretString quota of Secrets Manager: 65,536 bytes. */
export const maxSecretStringBytes = 65_536;
/** Staging labels AWS allows across all versions of one secret. */
export const stagingLabelQuota = 20;
/** Labels Secrets Manager itself uses (AWSCURRENT, AWSPREVIOUS, AWSPENDING during rotation). */
const awsOwnLabels = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const;

/** The limits Coffer must respect: 64 KiB values, and as many versions as staging labels are left. */
export const awsSecretsManagerLimits: BackendLimits = Object.freeze({
  maxValueBytes: maxSecretStringBytes,
  maxVersionsPerSecret: stagingLabelQuota - awsOwnLabels.length,
});

/** The part of the SDK client the backend uses (`SecretsManagerClient`, or a recording stand-in). */
export type SecretsManagerLike = AwsClientLike;

/** Failures a missing value on `get` is told by: the secret or version is gone, or pending deletion. */
const missingOnGet: ReadonlySet<string> = new Set(['not_found', 'marked_for_deletion']);

type Described = DescribeSecretCommandOutput;

/** The coffer versions a version-to-stages map holds, each with its AWS version id. */
function cofferVersions(map: Record<string, string[]> | undefined): Map<number, string> {
  const versions = new Map<number, string>();
  for (const [versionId, stages] of Object.entries(map ?? {})) {
    for (const stage of stages) {
      const version = versionOfStage(stage);
      if (version !== undefined) versions.set(version, versionId);
    }
  }
  return versions;
}

function versionWithStage(map: Record<string, string[]> | undefined, stage: string): string | undefined {
  for (const [versionId, stages] of Object.entries(map ?? {})) if (stages.includes(stage)) return versionId;
  return undefined;
}

/**
 * Coffer values in AWS Secrets Manager: one AWS secret per Coffer secret, named
 * `<clusterPrefix>/<secret id>` and tagged with the owning deployment; each Coffer version is a
 * secret version carrying the staging label `coffer-v<n>`, and AWSCURRENT sits on the highest.
 */
export class AwsSecretsManagerBackend implements Backend {
  readonly type = awsSecretsManagerType;
  readonly capabilities = awsSecretsManagerCapabilities;
  readonly limits = awsSecretsManagerLimits;
  readonly name: string;
  readonly #client: SecretsManagerLike;
  readonly #config: AwsSecretsManagerConfig;
  readonly #context: BackendContext;
  readonly #call: (write: boolean, command: () => object) => Promise<unknown>;
  readonly #listing = new RefListing();
  #closed = false;

  constructor(client: SecretsManagerLike, config: AwsSecretsManagerConfig, context: BackendContext) {
    this.name = context.name;
    this.#client = client;
    this.#config = config;
    this.#context = context;
    this.#call = awsCaller({
      client,
      service: secretsManagerServiceErrors,
      writes: createRateLimiter({ perSecond: config.writesPerSecond ?? defaultWritesPerSecond }),
      maxAttempts: config.maxAttempts,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: context.logger,
      backendName: context.name,
      storeName: 'Secrets Manager',
    });
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const secretString = encodeValues(values).toString('utf8');
    const bytes = Buffer.byteLength(secretString, 'utf8');
    if (bytes > maxSecretStringBytes) {
      throw valueTooLarge(this.name, ref, bytes, maxSecretStringBytes, 'AWS Secrets Manager SecretString');
    }
    const name = this.#nameOf(ref.secretId);
    this.#listing.changed();
    await this.#translated('put', ref, async () => {
      // a concurrent delete of the last version may remove the secret under us: start over
      for (let round = 1; ; round++) {
        const described = await this.#prepareForWrite(name, ref);
        const highest = Math.max(0, ...cofferVersions(described?.VersionIdsToStages).keys());
        const stages = [versionStage(ref.version)];
        if (ref.version >= highest) stages.push('AWSCURRENT');
        try {
          await this.#call(
            true,
            () =>
              new PutSecretValueCommand({
                SecretId: name,
                SecretString: secretString,
                VersionStages: stages,
                // one token per logical write: a retry after a lost answer is not a second version
                ClientRequestToken: randomUUID(),
              }),
          );
          return;
        } catch (err) {
          const kind = failureKind(err);
          if (round < 3 && (kind === 'not_found' || kind === 'marked_for_deletion')) continue;
          throw err;
        }
      }
    });
    this.#listing.changed();
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    const name = this.#nameOf(ref.secretId);
    return this.#translated('get', ref, async () => {
      const [described, value] = await Promise.all([
        this.#describe(name),
        this.#optional(() =>
          this.#call(
            false,
            () => new GetSecretValueCommand({ SecretId: name, VersionStage: versionStage(ref.version) }),
          ),
        ),
      ]);
      if (described === undefined || described.DeletedDate !== undefined) throw valueNotFound(this.name, ref);
      assertOwnedValue(labelsFromTags(described.Tags, ref), this.#context, ref, this.name);
      const got = value as GetSecretValueCommandOutput | undefined;
      if (got === undefined) throw valueNotFound(this.name, ref);
      if (!(got.VersionStages ?? []).includes(versionStage(ref.version))) {
        throw new CofferError(
          'integrity',
          `backend ${this.name} returned another version for secret ${ref.secretId} version ${ref.version}`,
        );
      }
      return decodeValues(Buffer.from(got.SecretString ?? '', 'utf8'), ref);
    });
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const name = this.#nameOf(ref.secretId);
    this.#listing.changed();
    await this.#translated('delete', ref, async () => {
      const described = await this.#describe(name);
      if (described === undefined || described.DeletedDate !== undefined) return;
      this.#assertOwner(described, ref);
      const map = described.VersionIdsToStages;
      const versions = cofferVersions(map);
      const versionId = versions.get(ref.version);
      if (versionId === undefined) return;
      versions.delete(ref.version);
      const stage = versionStage(ref.version);
      if (versions.size === 0) {
        // the label goes first, so a restored secret never shows a version Coffer deleted
        await this.#ignoreMissingLabel(() =>
          this.#call(
            true,
            () =>
              new UpdateSecretVersionStageCommand({
                SecretId: name,
                VersionStage: stage,
                RemoveFromVersionId: versionId,
              }),
          ),
        );
        await this.#deleteSecret(name);
        return;
      }
      if (versionWithStage(map, 'AWSCURRENT') === versionId) {
        const next = versions.get(Math.max(...versions.keys()))!;
        if (next !== versionId) {
          await this.#call(
            true,
            () =>
              new UpdateSecretVersionStageCommand({
                SecretId: name,
                VersionStage: 'AWSCURRENT',
                MoveToVersionId: next,
                RemoveFromVersionId: versionId,
              }),
          );
          // AWS moved AWSPREVIOUS onto the version being deleted; it should hold no label at all
          await this.#ignoreMissingLabel(() =>
            this.#call(
              true,
              () =>
                new UpdateSecretVersionStageCommand({
                  SecretId: name,
                  VersionStage: 'AWSPREVIOUS',
                  RemoveFromVersionId: versionId,
                }),
            ),
          );
        }
      }
      if ([...versions.values()].includes(versionId)) {
        // another Coffer version shares this AWS version (a put of identical bytes): only the label goes
      }
      await this.#ignoreMissingLabel(() =>
        this.#call(
          true,
          () =>
            new UpdateSecretVersionStageCommand({
              SecretId: name,
              VersionStage: stage,
              RemoveFromVersionId: versionId,
            }),
        ),
      );
    });
    this.#listing.changed();
  }

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    let refs: ValueRef[];
    if (options.secretId !== undefined) {
      assertValueRef({ secretId: options.secretId, version: 1 });
      const secretId = options.secretId;
      refs = await this.#translated('list', undefined, async () => {
        const described = await this.#describe(this.#nameOf(secretId));
        if (described === undefined || described.DeletedDate !== undefined || !this.#owns(described.Tags))
          return [];
        return [...cofferVersions(described.VersionIdsToStages).keys()].map((version) => ({
          secretId,
          version,
        }));
      });
      refs.sort(compareRefs);
    } else {
      refs = await this.#translated('list', undefined, () =>
        this.#listing.all(options.after !== undefined, () => this.#listAll()),
      );
    }
    return pageOfRefs(refs, options.after, options.limit ?? 1000);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }

  #nameOf(secretId: string): string {
    return secretNameOf(this.#context.clusterPrefix, secretId);
  }

  #owns(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): boolean {
    return (tags ?? []).some((t) => t.Key === 'coffer-deployment' && t.Value === this.#context.deploymentId);
  }

  #assertOwner(described: Described, ref: ValueRef): void {
    assertOwnedValue(labelsFromTags(described.Tags, ref), this.#context, ref, this.name);
  }

  /** Every ref this deployment holds under its prefix. */
  async #listAll(): Promise<ValueRef[]> {
    const prefix = `${this.#context.clusterPrefix}/`;
    const refs: ValueRef[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const out = (await this.#call(
        false,
        () =>
          new ListSecretsCommand({
            Filters: [
              { Key: 'name', Values: [prefix] },
              { Key: 'tag-key', Values: ['coffer-deployment'] },
            ],
            MaxResults: 100,
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
      )) as ListSecretsCommandOutput;
      for (const entry of out.SecretList ?? []) {
        const secretId =
          entry.Name === undefined ? undefined : secretIdOf(this.#context.clusterPrefix, entry.Name);
        if (secretId === undefined || entry.DeletedDate !== undefined || !this.#owns(entry.Tags)) continue;
        for (const version of cofferVersions(entry.SecretVersionsToStages).keys())
          refs.push({ secretId, version });
      }
      nextToken = out.NextToken;
      if (nextToken === undefined || nextToken === '') break;
    }
    return refs;
  }

  /** Describes the secret, making or restoring it so that a version can be written. */
  async #prepareForWrite(name: string, ref: ValueRef): Promise<Described | undefined> {
    for (let round = 1; ; round++) {
      const described = await this.#describe(name);
      if (described === undefined) {
        try {
          await this.#call(
            true,
            () =>
              new CreateSecretCommand({
                Name: name,
                Description: `Values of Coffer secret ${ref.secretId}, managed by Coffer`,
                Tags: ownerTags(this.#context, ref.secretId),
                ...(this.#config.kmsKeyId === undefined ? {} : { KmsKeyId: this.#config.kmsKeyId }),
              }),
          );
          return undefined;
        } catch (err) {
          const kind = failureKind(err);
          const raced = err instanceof StoreFailure && err.failure.vendorCode === 'ResourceExistsException';
          // another writer made it (or a forced delete is still being carried out): look again
          if (round < 6 && (raced || kind === 'marked_for_deletion')) {
            if (kind === 'marked_for_deletion') await sleep(250 * round);
            continue;
          }
          throw err;
        }
      }
      this.#assertOwner(described, ref);
      if (described.DeletedDate !== undefined) {
        // a name pending deletion never blocks Coffer: restore it and write on
        await this.#call(true, () => new RestoreSecretCommand({ SecretId: name }));
        continue;
      }
      return described;
    }
  }

  async #deleteSecret(name: string): Promise<void> {
    const input = this.#config.forceDeleteWithoutRecovery
      ? { SecretId: name, ForceDeleteWithoutRecovery: true }
      : {
          SecretId: name,
          RecoveryWindowInDays: this.#config.recoveryWindowDays ?? defaultRecoveryWindowDays,
        };
    try {
      await this.#call(true, () => new DeleteSecretCommand(input));
    } catch (err) {
      const kind = failureKind(err);
      if (kind === 'not_found' || kind === 'marked_for_deletion') return;
      throw err;
    }
  }

  async #describe(name: string): Promise<Described | undefined> {
    return this.#optional(
      async () => (await this.#call(false, () => new DescribeSecretCommand({ SecretId: name }))) as Described,
    );
  }

  /** The result, or undefined when the secret or version is not there. */
  async #optional<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (failureKind(err) === 'not_found') return undefined;
      throw err;
    }
  }

  /** A label removal that finds the label gone (a concurrent delete) has nothing left to do. */
  async #ignoreMissingLabel(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (err) {
      const failure = err instanceof StoreFailure ? err.failure : undefined;
      if (failure?.kind === 'not_found' || failure?.vendorCode === 'InvalidParameterException') return;
      throw err;
    }
  }

  #translated<T>(operation: string, ref: ValueRef | undefined, work: () => Promise<T>): Promise<T> {
    return translateStoreFailures({ backend: this.name, type: this.type }, operation, ref, work, {
      missingOnGet,
    });
  }
}
