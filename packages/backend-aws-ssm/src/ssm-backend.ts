import {
  DeleteParameterCommand,
  GetParameterCommand,
  type GetParameterCommandOutput,
  GetParametersByPathCommand,
  type GetParametersByPathCommandOutput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandOutput,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
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
  createRateLimiter,
  decodeValues,
  encodeValues,
  ownerLabels,
  type SecretValues,
  type ValueRef,
  valueNotFound,
  valueTooLarge,
} from '@coffer/core';
import { type AwsSsmConfig, defaultWritesPerSecond, tierValueLimits } from './ssm-config.js';
import { ssmServiceErrors } from './ssm-errors.js';
import { clusterPathOf, parameterNameOf, refOfParameterName, secretPathOf } from './ssm-names.js';

/** The backend type id. */
export const awsSsmType = 'aws-ssm';

/** Every version kept (a parameter each), listing by path, owner tags; AWS KMS encrypts (SecureString). */
export const awsSsmCapabilities: BackendCapabilities = Object.freeze({
  versioning: true,
  listing: true,
  labels: true,
  envelope: false,
});

/** The limits of an instance: its tier's value size; versions are separate parameters, so uncapped. */
export function awsSsmLimits(config: Pick<AwsSsmConfig, 'tier'>): BackendLimits {
  return Object.freeze({ maxValueBytes: tierValueLimits[config.tier] });
}

type Tags = readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined;

function labelsOf(tags: Tags): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const tag of tags ?? [])
    if (tag.Key !== undefined && tag.Value !== undefined) labels[tag.Key] = tag.Value;
  return labels;
}

/**
 * Coffer values in AWS Systems Manager Parameter Store: one SecureString parameter per Coffer
 * version, `/<clusterPrefix>/<secret id>/v<n>`, tagged with the owning deployment, the secret id
 * and the version.
 */
export class AwsSsmBackend implements Backend {
  readonly type = awsSsmType;
  readonly capabilities = awsSsmCapabilities;
  readonly limits: BackendLimits;
  readonly name: string;
  readonly #client: AwsClientLike;
  readonly #config: AwsSsmConfig;
  readonly #context: BackendContext;
  readonly #call: (write: boolean, command: () => object) => Promise<unknown>;
  readonly #listing = new RefListing();
  #closed = false;

  constructor(client: AwsClientLike, config: AwsSsmConfig, context: BackendContext) {
    this.name = context.name;
    this.limits = awsSsmLimits(config);
    this.#client = client;
    this.#config = config;
    this.#context = context;
    this.#call = awsCaller({
      client,
      service: ssmServiceErrors,
      writes: createRateLimiter({ perSecond: config.writesPerSecond ?? defaultWritesPerSecond }),
      maxAttempts: config.maxAttempts,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: context.logger,
      backendName: context.name,
      storeName: 'Parameter Store',
    });
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const value = encodeValues(values).toString('utf8');
    const bytes = Buffer.byteLength(value, 'utf8');
    const limit = this.limits.maxValueBytes!;
    if (bytes > limit) {
      throw valueTooLarge(this.name, ref, bytes, limit, `SSM ${this.#config.tier} parameter`);
    }
    const name = this.#nameOf(ref);
    const tier = this.#config.tier;
    const base = {
      Name: name,
      Value: value,
      Type: 'SecureString' as const,
      ...(this.#config.kmsKeyId === undefined ? {} : { KeyId: this.#config.kmsKeyId }),
    };
    this.#listing.changed();
    await this.#translated('put', ref, async () => {
      try {
        // a new parameter carries its owner tags from the start (tags cannot go with Overwrite)
        await this.#call(
          true,
          () => new PutParameterCommand({ ...base, Tier: tier, Overwrite: false, Tags: this.#tags(ref) }),
        );
      } catch (err) {
        if (!(err instanceof StoreFailure) || err.failure.vendorCode !== 'ParameterAlreadyExists') throw err;
        // the same ref again: replace it, but never a parameter another deployment owns
        await this.#assertOwned(name, ref);
        // no Tier when Standard: one made advanced earlier keeps its tier (a downgrade is refused)
        await this.#call(
          true,
          () =>
            new PutParameterCommand({
              ...base,
              ...(tier === 'Standard' ? {} : { Tier: tier }),
              Overwrite: true,
            }),
        );
      }
    });
    this.#listing.changed();
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    const name = this.#nameOf(ref);
    return this.#translated('get', ref, async () => {
      const [got, tags] = await Promise.all([
        this.#call(
          false,
          () => new GetParameterCommand({ Name: name, WithDecryption: true }),
        ) as Promise<GetParameterCommandOutput>,
        this.#tagsOf(name),
      ]);
      assertOwnedValue(labelsOf(tags), this.#context, ref, this.name);
      const text = got.Parameter?.Value;
      if (text === undefined) throw valueNotFound(this.name, ref);
      return decodeValues(Buffer.from(text, 'utf8'), ref);
    });
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const name = this.#nameOf(ref);
    this.#listing.changed();
    await this.#translated('delete', ref, async () => {
      let tags: Tags;
      try {
        tags = await this.#tagsOf(name);
      } catch (err) {
        if (failureKind(err) === 'not_found') return;
        throw err;
      }
      // a parameter another deployment owns is not ours to delete
      assertOwnedValue(labelsOf(tags), this.#context, ref, this.name);
      try {
        await this.#call(true, () => new DeleteParameterCommand({ Name: name }));
      } catch (err) {
        if (failureKind(err) !== 'not_found') throw err;
      }
    });
    this.#listing.changed();
  }

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    let refs: ValueRef[];
    if (options.secretId !== undefined) {
      assertValueRef({ secretId: options.secretId, version: 1 });
      const path = secretPathOf(this.#context.clusterPrefix, options.secretId);
      refs = await this.#translated('list', undefined, () => this.#listPath(path, false));
    } else {
      const prefix = clusterPathOf(this.#context.clusterPrefix);
      refs = await this.#translated('list', undefined, () =>
        this.#listing.all(options.after !== undefined, () => this.#listPath(prefix, true)),
      );
    }
    return pageOfRefs(refs, options.after, options.limit ?? 1000);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }

  #nameOf(ref: ValueRef): string {
    return parameterNameOf(this.#context.clusterPrefix, ref);
  }

  #tags(ref: ValueRef): { Key: string; Value: string }[] {
    return Object.entries(ownerLabels(this.#context, ref)).map(([Key, Value]) => ({ Key, Value }));
  }

  async #tagsOf(name: string): Promise<Tags> {
    const out = (await this.#call(
      false,
      () => new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }),
    )) as ListTagsForResourceCommandOutput;
    return out.TagList;
  }

  async #assertOwned(name: string, ref: ValueRef): Promise<void> {
    assertOwnedValue(labelsOf(await this.#tagsOf(name)), this.#context, ref, this.name);
  }

  /**
   * The refs of the parameters under `path`, sorted. Only names are used (WithDecryption off, so
   * listing needs no KMS permission); ownership is checked when a value is read.
   */
  async #listPath(path: string, recursive: boolean): Promise<ValueRef[]> {
    const refs: ValueRef[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 1_000_000; page++) {
      const out = (await this.#call(
        false,
        () =>
          new GetParametersByPathCommand({
            Path: path,
            Recursive: recursive,
            WithDecryption: false,
            MaxResults: 10,
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
      )) as GetParametersByPathCommandOutput;
      for (const parameter of out.Parameters ?? []) {
        const ref =
          parameter.Name === undefined
            ? undefined
            : refOfParameterName(this.#context.clusterPrefix, parameter.Name);
        if (ref !== undefined) refs.push(ref);
      }
      nextToken = out.NextToken;
      if (nextToken === undefined || nextToken === '') break;
    }
    return refs.sort(compareRefs);
  }

  #translated<T>(operation: string, ref: ValueRef | undefined, work: () => Promise<T>): Promise<T> {
    return translateStoreFailures({ backend: this.name, type: this.type }, operation, ref, work);
  }
}
