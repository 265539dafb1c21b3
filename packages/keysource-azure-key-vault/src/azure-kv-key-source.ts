import { randomBytes } from 'node:crypto';
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
import type { AzureKeyVaultKeysConfig } from './azure-kv-keys-config.js';
import { classifyKeyVaultError, type KeyVaultFailure, keyVaultRetryVerdict } from './azure-kv-keys-errors.js';
import { contextTag, decodeWrapped, encodeWrapped, tagMatches } from './context-binding.js';

/** The key source type, as in `keyring.source`. */
export const azureKeyVaultType = 'azure-key-vault';

/** The wrap algorithm: RSA-OAEP with SHA-256 (and MGF1 with SHA-256). */
export const wrapAlgorithm = 'RSA-OAEP-256';

/** What the key source reads of a key (the SDK's `KeyVaultKey`, the part it uses). */
export interface KeyVaultKeyLike {
  name: string;
  keyType?: string | undefined;
  keyOperations?: string[] | undefined;
  properties: {
    version?: string | undefined;
    enabled?: boolean | undefined;
    notBefore?: Date | undefined;
    expiresOn?: Date | undefined;
  };
}

/** The part of `KeyClient` the key source uses. */
export interface KeyClientLike {
  getKey(name: string, options?: object): Promise<KeyVaultKeyLike>;
  rotateKey(name: string, options?: object): Promise<KeyVaultKeyLike>;
}

/** The part of `CryptographyClient` the key source uses. */
export interface CryptographyClientLike {
  wrapKey(algorithm: string, key: Uint8Array, options?: object): Promise<{ result: Uint8Array }>;
  unwrapKey(algorithm: string, encryptedKey: Uint8Array, options?: object): Promise<{ result: Uint8Array }>;
}

/** The SDK clients of a key source, made by `createKeyVaultClients`. */
export interface KeyVaultClients {
  keys: KeyClientLike;
  /** A cryptography client for one key version: from the key as fetched, or from its versioned id. */
  crypto(key: KeyVaultKeyLike | string): CryptographyClientLike;
  close(): void;
}

/** A failed call, classified, with the attempts it took. Never leaves the key source. */
class CallFailure extends Error {
  override readonly name = 'CallFailure';
  constructor(
    readonly failure: KeyVaultFailure,
    readonly attempts: number,
  ) {
    super(`Key Vault call failed: ${failure.kind}`);
  }
}

/**
 * Coffer's keyring key source over an Azure Key Vault (or Managed HSM) RSA key: Key Vault wraps
 * each data key (32 random bytes) with `wrapKey` and RSA-OAEP-256 under a named key version, and
 * unwraps it with `unwrapKey` under the version recorded in the blob. Key Vault's wrap takes no
 * additional authenticated data, so the source binds each data key to the wrap context itself
 * (`context-binding.ts`: an HMAC tag keyed from the data key); a wrapped key moved to another
 * secret, version or deployment fails with `integrity`. Rotation makes a new key version
 * (`rotateKey`); old versions keep unwrapping. Calls go through Coffer's retry layer; failures come
 * out as `key_unavailable` with a reason, never with a vendor message.
 *
 * @example
 * const source = new AzureKeyVaultKeySource(createKeyVaultClients(config), config, { logger, clock });
 */
export class AzureKeyVaultKeySource implements ExternalKeySource {
  readonly type = azureKeyVaultType;
  readonly description: string;
  readonly configuredKey: string;
  readonly canRotate = true;
  readonly #clients: KeyVaultClients;
  readonly #config: AzureKeyVaultKeysConfig;
  readonly #context: ExternalKeySourceContext;
  /** The key's id without a version: `https://<vault>/keys/<name>`. */
  readonly #keyId: string;
  /** Cryptography clients by versioned key id, so a version's key is fetched once. */
  readonly #crypto = new Map<string, CryptographyClientLike>();
  /** The version `current()` or `rotate()` found last, to tell a rotation made elsewhere. */
  #known: string | undefined;

  constructor(clients: KeyVaultClients, config: AzureKeyVaultKeysConfig, context: ExternalKeySourceContext) {
    this.#clients = clients;
    this.#config = config;
    this.#context = context;
    this.#keyId = `${config.vaultUrl.replace(/\/+$/, '')}/keys/${config.keyName}`;
    this.configuredKey = this.#keyId;
    this.description = `Azure Key Vault key ${config.keyName} in ${config.vaultUrl.replace(/\/+$/, '')}`;
  }

  /** The key's current version, checked: enabled, in date, RSA, allowing wrapKey and unwrapKey. */
  async current(): Promise<ExternalKey> {
    const key = await this.#run('describe', this.#keyId, () =>
      this.#clients.keys.getKey(this.#config.keyName),
    );
    return this.#take(key, 'describe');
  }

  async generateDataKey(
    key: ExternalKey,
    context: WrapContext,
  ): Promise<{ dataKey: Buffer; wrapped: WrappedDataKey }> {
    const dataKey = randomBytes(32);
    try {
      return { dataKey, wrapped: await this.#wrap('wrap', key, dataKey, context) };
    } catch (err) {
      dataKey.fill(0);
      throw err;
    }
  }

  unwrap(wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer> {
    return this.#unwrap('unwrap', wrapped, context);
  }

  async rewrap(wrapped: WrappedDataKey, context: WrapContext, to: ExternalKey): Promise<WrappedDataKey> {
    const dataKey = await this.#unwrap('rewrap', wrapped, context);
    try {
      return await this.#wrap('rewrap', to, dataKey, context);
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * When the key has a newer version than Coffer last saw (Key Vault's rotation policy, or an
   * operator), that version becomes current and nothing changes in Key Vault. Otherwise asks Key
   * Vault for a new version (`rotateKey`, with the key's type, size and operations).
   */
  async rotate(): Promise<ExternalKey> {
    const known = this.#known;
    const latest = await this.current();
    if (known !== undefined && latest.keyVersion !== known) return latest;
    const rotated = await this.#run('rotate', this.#keyId, () =>
      this.#clients.keys.rotateKey(this.#config.keyName),
    );
    const next = this.#take(rotated, 'rotate');
    this.#context.logger.info(
      { keyId: this.#keyId, keyVersion: next.keyVersion },
      `rotated Azure Key Vault key ${this.#config.keyName}: version ${next.keyVersion} wraps from now on`,
    );
    return next;
  }

  async close(): Promise<void> {
    this.#crypto.clear();
    this.#clients.close();
  }

  /** Checks a key as Key Vault described it, keeps a cryptography client for it, and names it. */
  #take(key: KeyVaultKeyLike, operation: string): ExternalKey {
    const version = key.properties.version;
    if (version === undefined || version === '') {
      throw keySourceFailure({
        source: this.description,
        operation,
        keyId: this.#keyId,
        reason: 'rejected',
        vendorCode: 'MalformedResponse',
      });
    }
    const now = Date.now();
    const { enabled, notBefore, expiresOn } = key.properties;
    if (
      enabled === false ||
      (notBefore !== undefined && now < notBefore.getTime()) ||
      (expiresOn !== undefined && now > expiresOn.getTime())
    ) {
      throw keySourceFailure({
        source: this.description,
        operation,
        keyId: this.#keyId,
        reason: 'key_disabled',
        vendorCode: enabled === false ? 'KeyDisabled' : 'KeyExpired',
      });
    }
    const ops = key.keyOperations;
    if (
      (key.keyType !== 'RSA' && key.keyType !== 'RSA-HSM') ||
      (ops !== undefined && (!ops.includes('wrapKey') || !ops.includes('unwrapKey')))
    ) {
      throw new CofferError(
        'invalid_config',
        `keyring.keyName: Key Vault key ${this.#keyId} is not an RSA key that allows wrapKey and unwrapKey (kty RSA or RSA-HSM, key_ops wrapKey and unwrapKey)`,
        {
          details: {
            issues: [
              { path: 'keyring.keyName', message: 'must name an RSA key that allows wrapKey and unwrapKey' },
            ],
          },
        },
      );
    }
    this.#crypto.set(`${this.#keyId}/${version}`, this.#clients.crypto(key));
    this.#known = version;
    return { keyId: this.#keyId, keyVersion: version };
  }

  /** The cryptography client of one version of a key (fetching the key once, on first use). */
  #cryptoFor(keyId: string, version: string): CryptographyClientLike {
    const id = `${keyId}/${version}`;
    let client = this.#crypto.get(id);
    if (client === undefined) {
      client = this.#clients.crypto(id);
      this.#crypto.set(id, client);
    }
    return client;
  }

  async #wrap(
    operation: string,
    key: ExternalKey,
    dataKey: Buffer,
    context: WrapContext,
  ): Promise<WrappedDataKey> {
    const version = key.keyVersion;
    if (version === undefined) throw new CofferError('internal', 'an Azure Key Vault key without a version');
    const crypto = this.#cryptoFor(key.keyId, version);
    const out = await this.#run(operation, key.keyId, () => crypto.wrapKey(wrapAlgorithm, dataKey));
    if (!(out.result instanceof Uint8Array) || out.result.length === 0) {
      throw keySourceFailure({
        source: this.description,
        operation,
        keyId: key.keyId,
        reason: 'rejected',
        vendorCode: 'MalformedResponse',
      });
    }
    return {
      keyId: key.keyId,
      keyVersion: version,
      ciphertext: encodeWrapped(out.result, contextTag(dataKey, context)),
    };
  }

  async #unwrap(operation: string, wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer> {
    const parts = decodeWrapped(wrapped.ciphertext);
    if (parts === undefined || wrapped.keyVersion === undefined || wrapped.keyVersion === '') {
      throw this.#notAuthentic(wrapped.keyId, 'MalformedWrap');
    }
    const crypto = this.#cryptoFor(wrapped.keyId, wrapped.keyVersion);
    const out = await this.#run(
      operation,
      wrapped.keyId,
      () => crypto.unwrapKey(wrapAlgorithm, parts.rsaWrap),
      true,
    );
    const dataKey = Buffer.from(out.result);
    out.result.fill(0);
    if (dataKey.length !== 32 || !tagMatches(dataKey, context, parts.tag)) {
      dataKey.fill(0);
      throw this.#notAuthentic(wrapped.keyId, 'ContextMismatch');
    }
    return dataKey;
  }

  /** One call with Coffer's retry layer, its failure translated into Coffer's errors. */
  async #run<T>(operation: string, keyId: string, call: () => Promise<T>, unwrapping = false): Promise<T> {
    let failure: CallFailure;
    try {
      return await withRetries(call, {
        policy: { maxAttempts: this.#config.maxAttempts },
        classify: keyVaultRetryVerdict,
        onRetry: (err, attempt, delayMs) => {
          const f = classifyKeyVaultError(err);
          this.#context.logger.debug(
            { keyring: azureKeyVaultType, reason: f.kind, vendorCode: f.vendorCode, attempt, delayMs },
            'retrying a Key Vault call',
          );
        },
      });
    } catch (err) {
      if (err instanceof CofferError) throw err;
      failure =
        err instanceof RetriesExhausted
          ? new CallFailure(classifyKeyVaultError(err.last), err.attempts)
          : new CallFailure(classifyKeyVaultError(err), 1);
    }
    const { kind, vendorCode } = failure.failure;
    if (kind === 'bad_parameter' && unwrapping) throw this.#notAuthentic(keyId, vendorCode);
    throw keySourceFailure({
      source: this.description,
      operation,
      keyId,
      reason: kind === 'bad_parameter' ? 'rejected' : kind,
      vendorCode,
      attempts: failure.attempts,
    });
  }

  #notAuthentic(keyId: string, vendorCode: string | undefined): CofferError {
    return new CofferError(
      'integrity',
      `a wrapped data key of Azure Key Vault key ${keyId} is not authentic (${vendorCode ?? 'BadParameter'}): ` +
        'the blob was tampered with, belongs to another secret, version or deployment, or was wrapped by another key',
      { details: { keyId, ...(vendorCode === undefined ? {} : { vendorCode }) } },
    );
  }
}
