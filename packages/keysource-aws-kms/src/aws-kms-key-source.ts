import { setTimeout as sleep } from 'node:timers/promises';
import {
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  type KeyMetadata,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { type AwsClientLike, awsCaller, StoreFailure } from '@coffer/aws-store-kit';
import {
  CofferError,
  createRateLimiter,
  type ExternalKey,
  type ExternalKeySource,
  type ExternalKeySourceContext,
  type KeySourceFailureReason,
  keySourceFailure,
  type WrapContext,
  type WrappedDataKey,
} from '@coffer/core';
import { type AwsKmsConfig, regionOf } from './aws-kms-config.js';
import { type KmsSpecial, kmsErrors } from './aws-kms-errors.js';

/** The key source type, as in `keyring.source`. */
export const awsKmsType = 'aws-kms';

const reasons: Readonly<Record<string, KeySourceFailureReason>> = {
  not_found: 'key_not_found',
  key_disabled: 'key_disabled',
  key_usage: 'rejected',
  permission_denied: 'permission_denied',
  unauthenticated: 'unauthenticated',
  unreachable: 'unreachable',
  throttled: 'throttled',
  timeout: 'timeout',
  server_error: 'server_error',
  rejected: 'rejected',
  limit_exceeded: 'rejected',
};

/**
 * Coffer's keyring key source over AWS KMS: a symmetric encryption key wraps each data key
 * (GenerateDataKey), unwraps it (Decrypt) and moves it to a new key or key material (ReEncrypt),
 * always with the encryption context the keyring gives (deployment, secret, version), so the key
 * never leaves KMS. Calls go through Coffer's retry layer (backoff with jitter on throttling and
 * 5xx); failures come out as `key_unavailable` with a reason, or `integrity` for a ciphertext KMS
 * refuses, never with a vendor message.
 *
 * @example
 * const source = new AwsKmsKeySource(new KMSClient({ region: 'eu-west-1' }), config, { logger, clock });
 */
export class AwsKmsKeySource implements ExternalKeySource {
  readonly type = awsKmsType;
  readonly description: string;
  readonly configuredKey: string;
  readonly canRotate = true;
  readonly #client: AwsClientLike;
  readonly #config: AwsKmsConfig;
  readonly #call: (write: boolean, command: () => object) => Promise<unknown>;
  /** The ARN the configured key resolved to last, to tell an alias moved from a rotation. */
  #resolvedArn: string | undefined;

  constructor(client: AwsClientLike, config: AwsKmsConfig, context: ExternalKeySourceContext) {
    this.#client = client;
    this.#config = config;
    this.configuredKey = config.keyId;
    const region = regionOf(config);
    this.description = `AWS KMS key ${config.keyId}${region === undefined ? '' : ` in ${region}`}`;
    this.#call = awsCaller<KmsSpecial>({
      client,
      service: kmsErrors,
      // KMS has no write quota of its own to respect here; its request quotas come back as throttling.
      writes: createRateLimiter({ perSecond: 0 }),
      maxAttempts: config.maxAttempts,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: context.logger,
      backendName: 'keyring',
      storeName: 'AWS KMS',
    });
  }

  async current(): Promise<ExternalKey> {
    const metadata = await this.#describe();
    this.#resolvedArn = metadata.Arn;
    return { keyId: metadata.Arn!, keyVersion: metadata.CurrentKeyMaterialId };
  }

  async generateDataKey(
    key: ExternalKey,
    context: WrapContext,
  ): Promise<{ dataKey: Buffer; wrapped: WrappedDataKey }> {
    const out = (await this.#run('wrap', key.keyId, () =>
      this.#call(
        false,
        () =>
          new GenerateDataKeyCommand({
            KeyId: key.keyId,
            KeySpec: 'AES_256',
            EncryptionContext: { ...context },
          }),
      ),
    )) as { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array; KeyId?: string; KeyMaterialId?: string };
    const dataKey = takeBytes(out.Plaintext);
    if (dataKey.length !== 32 || out.CiphertextBlob === undefined) {
      dataKey.fill(0);
      throw this.#malformed('wrap', key.keyId);
    }
    return {
      dataKey,
      wrapped: {
        keyId: out.KeyId ?? key.keyId,
        keyVersion: out.KeyMaterialId,
        ciphertext: Buffer.from(out.CiphertextBlob),
      },
    };
  }

  async unwrap(wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer> {
    const out = (await this.#run('unwrap', wrapped.keyId, () =>
      this.#call(
        false,
        () =>
          new DecryptCommand({
            CiphertextBlob: wrapped.ciphertext,
            KeyId: wrapped.keyId,
            EncryptionContext: { ...context },
          }),
      ),
    )) as { Plaintext?: Uint8Array };
    return takeBytes(out.Plaintext);
  }

  async rewrap(wrapped: WrappedDataKey, context: WrapContext, to: ExternalKey): Promise<WrappedDataKey> {
    const out = (await this.#run('rewrap', wrapped.keyId, () =>
      this.#call(
        false,
        () =>
          new ReEncryptCommand({
            CiphertextBlob: wrapped.ciphertext,
            SourceKeyId: wrapped.keyId,
            SourceEncryptionContext: { ...context },
            DestinationKeyId: to.keyId,
            DestinationEncryptionContext: { ...context },
          }),
      ),
    )) as { CiphertextBlob?: Uint8Array; KeyId?: string; DestinationKeyMaterialId?: string };
    if (out.CiphertextBlob === undefined) throw this.#malformed('rewrap', to.keyId);
    return {
      keyId: out.KeyId ?? to.keyId,
      keyVersion: out.DestinationKeyMaterialId,
      ciphertext: Buffer.from(out.CiphertextBlob),
    };
  }

  /**
   * When the configured alias now names another key, that key becomes current (no call changes
   * anything in KMS). Otherwise asks KMS for new key material (RotateKeyOnDemand) and waits up to
   * `rotationWaitSeconds` for it to become current.
   */
  async rotate(): Promise<ExternalKey> {
    const before = await this.#describe();
    if (this.#resolvedArn !== undefined && before.Arn !== this.#resolvedArn) {
      this.#resolvedArn = before.Arn;
      return { keyId: before.Arn!, keyVersion: before.CurrentKeyMaterialId };
    }
    const arn = before.Arn!;
    await this.#run('rotate', arn, () =>
      this.#call(true, () => new RotateKeyOnDemandCommand({ KeyId: arn })),
    );
    const deadline = Date.now() + this.#config.rotationWaitSeconds * 1000;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      const after = await this.#describe();
      if (after.CurrentKeyMaterialId !== before.CurrentKeyMaterialId || Date.now() >= deadline) {
        this.#resolvedArn = after.Arn;
        return { keyId: after.Arn!, keyVersion: after.CurrentKeyMaterialId };
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  /** DescribeKey on the configured key, refusing a key that cannot wrap data keys. */
  async #describe(): Promise<KeyMetadata> {
    const out = (await this.#run('describe', this.#config.keyId, () =>
      this.#call(false, () => new DescribeKeyCommand({ KeyId: this.#config.keyId })),
    )) as { KeyMetadata?: KeyMetadata };
    const metadata = out.KeyMetadata;
    if (metadata?.Arn === undefined) throw this.#malformed('describe', this.#config.keyId);
    if (metadata.KeyState !== 'Enabled') {
      throw keySourceFailure({
        source: this.description,
        operation: 'describe',
        keyId: metadata.Arn,
        reason: 'key_disabled',
        vendorCode: metadata.KeyState,
      });
    }
    if (
      (metadata.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT' ||
      metadata.KeyUsage !== 'ENCRYPT_DECRYPT'
    ) {
      throw new CofferError(
        'invalid_config',
        `keyring.keyId: KMS key ${metadata.Arn} is not a symmetric encryption key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT)`,
        { details: { issues: [{ path: 'keyring.keyId', message: 'must name a symmetric encryption key' }] } },
      );
    }
    return metadata;
  }

  /** Runs a KMS call, translating its failure into Coffer's errors. */
  async #run<T>(operation: string, keyId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof StoreFailure)) throw err;
      const { failure, attempts } = err as StoreFailure<KmsSpecial>;
      if (failure.kind === 'invalid_ciphertext') {
        throw new CofferError(
          'integrity',
          `AWS KMS refused a wrapped data key of key ${keyId} as not authentic (${failure.vendorCode ?? 'InvalidCiphertextException'}): ` +
            'the blob was tampered with, belongs to another secret, version or deployment, or was wrapped by another key',
          {
            details: {
              keyId,
              ...(failure.vendorCode === undefined ? {} : { vendorCode: failure.vendorCode }),
            },
          },
        );
      }
      throw keySourceFailure({
        source: this.description,
        operation,
        keyId,
        reason: reasons[failure.kind] ?? 'rejected',
        vendorCode: failure.vendorCode,
        attempts,
      });
    }
  }

  #malformed(operation: string, keyId: string): CofferError {
    return keySourceFailure({
      source: this.description,
      operation,
      keyId,
      reason: 'rejected',
      vendorCode: 'MalformedResponse',
    });
  }
}

/** A copy of the SDK's plaintext bytes, zeroing the SDK's own so only the caller's copy remains. */
function takeBytes(bytes: Uint8Array | undefined): Buffer {
  if (bytes === undefined) return Buffer.alloc(0);
  const copy = Buffer.alloc(bytes.length);
  copy.set(bytes);
  bytes.fill(0);
  return copy;
}
