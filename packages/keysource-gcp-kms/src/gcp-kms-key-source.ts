import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CofferError,
  type ExternalKey,
  type ExternalKeySource,
  type ExternalKeySourceContext,
  keySourceFailure,
  RetriesExhausted,
  type WrapContext,
  type WrappedDataKey,
  withRetries,
} from '@coffer/core';
import { crc32c } from '@coffer/gcp-kit';
import type { GcpKmsConfig } from './gcp-kms-config.js';
import { type CloudKmsFailure, classifyCloudKmsError, cloudKmsRetryVerdict } from './gcp-kms-errors.js';
import { contextBytes } from './wrap-context.js';

/** The key source type, as in `keyring.source`. */
export const gcpKmsType = 'gcp-kms';

/** An int64 wrapper as the SDK takes and gives it (`google.protobuf.Int64Value`). */
type Int64Value = { value?: number | string | { toString(): string } | null } | null | undefined;

interface EncryptResponse {
  name?: string | null;
  ciphertext?: Uint8Array | string | null;
  ciphertextCrc32c?: Int64Value;
  verifiedPlaintextCrc32c?: boolean | null;
  verifiedAdditionalAuthenticatedDataCrc32c?: boolean | null;
}

interface DecryptResponse {
  plaintext?: Uint8Array | string | null;
  plaintextCrc32c?: Int64Value;
}

interface VersionResource {
  name?: string | null;
  state?: string | number | null;
}

type Call<Req, Res> = (request: Req, options?: object) => Promise<[Res, ...unknown[]]>;

/** The part of `KeyManagementServiceClient` the key source uses (or a recording stand-in). */
export interface CloudKmsClientLike {
  encrypt: Call<
    {
      name: string;
      plaintext: Buffer;
      additionalAuthenticatedData: Buffer;
      plaintextCrc32c: { value: number };
      additionalAuthenticatedDataCrc32c: { value: number };
    },
    EncryptResponse
  >;
  decrypt: Call<
    {
      name: string;
      ciphertext: Buffer;
      additionalAuthenticatedData: Buffer;
      ciphertextCrc32c: { value: number };
      additionalAuthenticatedDataCrc32c: { value: number };
    },
    DecryptResponse
  >;
  createCryptoKeyVersion: Call<{ parent: string; cryptoKeyVersion: object }, VersionResource>;
  getCryptoKeyVersion: Call<{ name: string }, VersionResource>;
  updateCryptoKeyPrimaryVersion: Call<{ name: string; cryptoKeyVersionId: string }, unknown>;
  close(): Promise<void>;
}

/** A failed call, classified, with the attempts it took. Never leaves the key source. */
class CallFailure extends Error {
  override readonly name = 'CallFailure';
  constructor(
    readonly failure: CloudKmsFailure,
    readonly attempts: number,
  ) {
    super(`Cloud KMS call failed: ${failure.kind}`);
  }
}

/** An answer whose CRC32C does not match its data: damaged in transit, so worth another attempt. */
class ChecksumMismatch extends Error {
  override readonly name = 'ChecksumMismatch';
}

/** The context a probe of the key is wrapped under; never the context of a Coffer value. */
const probeContext: WrapContext = { 'coffer-probe': 'current' };

function int64(value: Int64Value): number | undefined {
  const raw = value?.value;
  if (raw === undefined || raw === null) return undefined;
  const n = Number(String(raw));
  return Number.isSafeInteger(n) ? n : undefined;
}

function bytesOf(value: Uint8Array | string | null | undefined): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value);
}

/** ENABLED as the SDK may give it: the name, or the proto number with int enum encoding. */
function isEnabled(state: VersionResource['state']): boolean {
  return state === 'ENABLED' || state === 1;
}

/**
 * Coffer's keyring key source over Google Cloud KMS: a symmetric ENCRYPT_DECRYPT key wraps each
 * data key (32 random bytes, `encrypt`), unwraps it (`decrypt`, on the key: Cloud KMS finds the
 * version from the ciphertext) and re-wraps it under the primary version after a rotation
 * (`decrypt`, then `encrypt`), always with the keyring's wrap context as additional authenticated
 * data, so a wrapped key moved to another secret, version or deployment does not decrypt. The key
 * version that wrapped (the `encrypt` response's `name`) is recorded as `keyVersion`. Requests and
 * answers carry CRC32C checksums, as Google recommends. Calls go through Coffer's retry layer;
 * failures come out as `key_unavailable` with a reason, or `integrity`, never with a vendor
 * message.
 *
 * @example
 * const source = new GcpKmsKeySource(createCloudKmsClient(config), config, { logger, clock });
 */
export class GcpKmsKeySource implements ExternalKeySource {
  readonly type = gcpKmsType;
  readonly description: string;
  readonly configuredKey: string;
  readonly canRotate = true;
  readonly #client: CloudKmsClientLike;
  readonly #config: GcpKmsConfig;
  readonly #context: ExternalKeySourceContext;
  /** The primary version `current()` or `rotate()` found last, to tell a rotation made elsewhere. */
  #known: string | undefined;

  constructor(client: CloudKmsClientLike, config: GcpKmsConfig, context: ExternalKeySourceContext) {
    this.#client = client;
    this.#config = config;
    this.#context = context;
    this.configuredKey = config.keyName;
    this.description = `Cloud KMS key ${config.keyName}`;
  }

  /**
   * Encrypts a throwaway value under the configured key: that proves the key exists, its primary
   * version is enabled and Coffer may use it, and names the primary version, with nothing more
   * than `roles/cloudkms.cryptoKeyEncrypterDecrypter` (which cannot read the key's metadata).
   */
  async current(): Promise<ExternalKey> {
    const probe = randomBytes(32);
    const { wrapped } = await this.#encrypt('describe', this.#config.keyName, probe, probeContext);
    probe.fill(0);
    this.#known = wrapped.keyVersion;
    return { keyId: wrapped.keyId, keyVersion: wrapped.keyVersion };
  }

  async generateDataKey(
    key: ExternalKey,
    context: WrapContext,
  ): Promise<{ dataKey: Buffer; wrapped: WrappedDataKey }> {
    const dataKey = randomBytes(32);
    try {
      return await this.#encrypt('wrap', key.keyId, dataKey, context);
    } catch (err) {
      dataKey.fill(0);
      throw err;
    }
  }

  unwrap(wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer> {
    return this.#decrypt('unwrap', wrapped, context);
  }

  async rewrap(wrapped: WrappedDataKey, context: WrapContext, to: ExternalKey): Promise<WrappedDataKey> {
    const dataKey = await this.#decrypt('rewrap', wrapped, context);
    try {
      return (await this.#encrypt('rewrap', to.keyId, dataKey, context)).wrapped;
    } finally {
      dataKey.fill(0);
    }
  }

  /** `decrypt` on the key `wrapped` names (Cloud KMS finds the version in the ciphertext). */
  async #decrypt(operation: string, wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer> {
    const aad = contextBytes(context);
    const ciphertext = Buffer.from(wrapped.ciphertext);
    const plaintext = await this.#run(
      operation,
      wrapped.keyId,
      async () => {
        const [out] = await this.#client.decrypt(
          {
            name: wrapped.keyId,
            ciphertext,
            additionalAuthenticatedData: aad,
            ciphertextCrc32c: { value: crc32c(ciphertext) },
            additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
          },
          this.#options(),
        );
        const bytes = bytesOf(out.plaintext);
        const expected = int64(out.plaintextCrc32c);
        if (expected !== undefined && expected !== crc32c(bytes)) {
          bytes.fill(0);
          throw new ChecksumMismatch('plaintext checksum mismatch');
        }
        if (out.plaintext instanceof Uint8Array) out.plaintext.fill(0);
        return bytes;
      },
      true,
    );
    if (plaintext.length !== 32) {
      plaintext.fill(0);
      throw this.#notAuthentic(wrapped.keyId, 'NOT_A_DATA_KEY');
    }
    return plaintext;
  }

  /**
   * When the key's primary version changed since Coffer last looked (a rotation by schedule or by
   * an operator), that version becomes current and nothing changes in Cloud KMS. Otherwise makes
   * a new key version, waits up to `rotationWaitSeconds` for it to be generated, and makes it
   * primary.
   */
  async rotate(): Promise<ExternalKey> {
    const known = this.#known;
    const before = await this.current();
    if (known !== undefined && before.keyVersion !== known) return before;
    const keyName = this.#config.keyName;
    const created = await this.#run('rotate', keyName, async () => {
      const [version] = await this.#client.createCryptoKeyVersion(
        { parent: keyName, cryptoKeyVersion: {} },
        this.#options(),
      );
      return version;
    });
    const id = versionIdOf(created.name ?? '');
    if (id === undefined) throw this.#malformed('rotate', keyName);
    const deadline = Date.now() + this.#config.rotationWaitSeconds * 1000;
    let state = created.state;
    for (let delay = 200; !isEnabled(state) && Date.now() < deadline; delay = Math.min(delay * 2, 5_000)) {
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      state = await this.#run('rotate', keyName, async () => {
        const [version] = await this.#client.getCryptoKeyVersion({ name: created.name! }, this.#options());
        return version.state;
      });
    }
    await this.#run('rotate', keyName, () =>
      this.#client.updateCryptoKeyPrimaryVersion({ name: keyName, cryptoKeyVersionId: id }, this.#options()),
    );
    this.#known = id;
    this.#context.logger.info(
      { keyName, keyVersion: id },
      `made version ${id} the primary version of Cloud KMS key ${keyName}`,
    );
    return { keyId: keyName, keyVersion: id };
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** `encrypt` under `keyId` (its primary version), naming the version that really wrapped. */
  async #encrypt(
    operation: string,
    keyId: string,
    plaintext: Buffer,
    context: WrapContext,
  ): Promise<{ dataKey: Buffer; wrapped: WrappedDataKey }> {
    const aad = contextBytes(context);
    const out = await this.#run(operation, keyId, async () => {
      const [answer] = await this.#client.encrypt(
        {
          name: keyId,
          plaintext,
          additionalAuthenticatedData: aad,
          plaintextCrc32c: { value: crc32c(plaintext) },
          additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
        },
        this.#options(),
      );
      const ciphertext = bytesOf(answer.ciphertext);
      if (
        answer.verifiedPlaintextCrc32c !== true ||
        answer.verifiedAdditionalAuthenticatedDataCrc32c !== true ||
        int64(answer.ciphertextCrc32c) !== crc32c(ciphertext)
      ) {
        throw new ChecksumMismatch('encrypt checksum mismatch');
      }
      return { name: answer.name ?? '', ciphertext };
    });
    const version = versionIdOf(out.name);
    if (version === undefined || out.ciphertext.length === 0) throw this.#malformed(operation, keyId);
    return { dataKey: plaintext, wrapped: { keyId, keyVersion: version, ciphertext: out.ciphertext } };
  }

  /** Per-call options: the SDK's own retries off (Coffer's layer retries), our timeout. */
  #options(): object {
    return { retry: { retryCodes: [] }, timeout: this.#config.requestTimeoutMs };
  }

  /** One call with Coffer's retry layer, its failure translated into Coffer's errors. */
  async #run<T>(operation: string, keyId: string, call: () => Promise<T>, decrypting = false): Promise<T> {
    let failure: CallFailure;
    try {
      return await withRetries(call, {
        policy: { maxAttempts: this.#config.maxAttempts },
        classify: (err) => (err instanceof ChecksumMismatch ? { retry: true } : cloudKmsRetryVerdict(err)),
        onRetry: (err, attempt, delayMs) => {
          const f = classified(err);
          this.#context.logger.debug(
            { keyring: gcpKmsType, reason: f.kind, vendorCode: f.vendorCode, attempt, delayMs },
            'retrying a Cloud KMS call',
          );
        },
      });
    } catch (err) {
      if (err instanceof CofferError) throw err;
      failure =
        err instanceof RetriesExhausted
          ? new CallFailure(classified(err.last), err.attempts)
          : new CallFailure(classified(err), 1);
    }
    const { kind, vendorCode } = failure.failure;
    if (kind === 'invalid_argument' && decrypting) throw this.#notAuthentic(keyId, vendorCode);
    throw keySourceFailure({
      source: this.description,
      operation,
      keyId,
      reason: kind === 'invalid_argument' ? 'rejected' : kind,
      vendorCode,
      attempts: failure.attempts,
    });
  }

  #notAuthentic(keyId: string, vendorCode: string | undefined): CofferError {
    return new CofferError(
      'integrity',
      `Cloud KMS refused a wrapped data key of key ${keyId} as not authentic (${vendorCode ?? 'INVALID_ARGUMENT'}): ` +
        'the blob was tampered with, belongs to another secret, version or deployment, or was wrapped by another key',
      { details: { keyId, ...(vendorCode === undefined ? {} : { vendorCode }) } },
    );
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

function classified(err: unknown): CloudKmsFailure {
  return err instanceof ChecksumMismatch
    ? { kind: 'server_error', vendorCode: 'CRC32C_MISMATCH', retry: true }
    : classifyCloudKmsError(err);
}

/** The version id at the end of a CryptoKeyVersion name (`.../cryptoKeyVersions/3` gives `3`). */
function versionIdOf(name: string): string | undefined {
  return /\/cryptoKeyVersions\/([0-9]{1,20})$/.exec(name)?.[1];
}
