import { randomBytes } from 'node:crypto';
import {
  escapePath,
  type VaultHttp,
  type VaultRequest,
  type VaultResponse,
  type VaultSession,
} from '@coffer/backend-vault';
import {
  CofferError,
  type ExternalKey,
  type ExternalKeySource,
  type ExternalKeySourceContext,
  keySourceFailure,
  type Logger,
  RetriesExhausted,
  type WrapContext,
  type WrappedDataKey,
  withRetries,
} from '@coffer/core';
import { transitKeyId, type VaultTransitConfig } from './vault-transit-config.js';
import {
  classifyTransitAnswer,
  classifyTransitError,
  type TransitFailure,
  TransitStatusError,
} from './vault-transit-errors.js';
import { bindContext, dataKeyLength, openBound } from './wrap-binding.js';

/** The key source type, as in `keyring.source`. */
export const vaultTransitType = 'vault-transit';

/** Transit key types that encrypt and decrypt with an AEAD cipher, as Coffer needs. */
const aeadKeyTypes = new Set(['aes256-gcm96', 'aes128-gcm96', 'chacha20-poly1305']);

/** What Coffer reads of `GET <mount>/keys/<name>`. */
export interface TransitKeyInfo {
  type: string;
  derived: boolean;
  latestVersion: number;
  minDecryptionVersion: number;
}

/** A key of this source, as Vault paths name it. */
interface KeyPath {
  keyId: string;
  /** The escaped mount, e.g. `transit`. */
  mount: string;
  /** The escaped key name. */
  name: string;
}

/** A failed call, classified, with the attempts it took. Never leaves the key source. */
class CallFailure extends Error {
  override readonly name = 'CallFailure';
  constructor(
    readonly failure: TransitFailure,
    readonly attempts: number,
  ) {
    super(`Transit call failed: ${failure.kind}`);
  }
}

/**
 * Coffer's keyring key source over HashiCorp Vault's (or OpenBao's) Transit engine: a Transit key
 * wraps each data key (`encrypt/<key>`), unwraps it (`decrypt/<key>`) and moves it to the key's
 * newest version without showing it (`rewrap/<key>`); `rotate` is `keys/<key>/rotate`. The key is
 * not derived, so Coffer binds the wrap context itself: Transit encrypts the data key followed by
 * the SHA-256 digest of the context, and unwrap refuses (`integrity`) a data key whose digest does
 * not match. Logins, tokens, namespaces and TLS are the Vault store's (`@coffer/backend-vault`);
 * calls go through Coffer's retry layer, and failures come out as `key_unavailable` with a reason,
 * never with Vault's message.
 *
 * @example
 * const source = new VaultTransitKeySource(http, session, config, { logger, clock });
 */
export class VaultTransitKeySource implements ExternalKeySource {
  readonly type = vaultTransitType;
  readonly description: string;
  readonly configuredKey: string;
  readonly canRotate = true;
  readonly #http: VaultHttp;
  readonly #session: VaultSession;
  readonly #config: VaultTransitConfig;
  readonly #logger: Logger;
  readonly #key: KeyPath;
  readonly #namespacePrefix: string;

  constructor(
    http: VaultHttp,
    session: VaultSession,
    config: VaultTransitConfig,
    context: ExternalKeySourceContext,
  ) {
    this.#http = http;
    this.#session = session;
    this.#config = config;
    this.#logger = context.logger;
    this.#namespacePrefix = config.namespace === undefined ? '' : `${config.namespace.replace(/\/+$/, '')}/`;
    const keyId = transitKeyId(config);
    this.#key = { keyId, mount: escapePath(config.mount), name: encodeURIComponent(config.keyName) };
    this.configuredKey = keyId;
    this.description = `Vault Transit key ${keyId}${config.address === undefined ? '' : ` at ${config.address}`}`;
  }

  async current(): Promise<ExternalKey> {
    const info = await this.describe();
    return { keyId: this.#key.keyId, keyVersion: String(info.latestVersion) };
  }

  /**
   * The configured key as Transit describes it; refuses a key Coffer cannot wrap with (another
   * type, or a derived key, which would need Vault to hold the context).
   */
  async describe(): Promise<TransitKeyInfo> {
    const res = await this.#call('describe', this.#key.keyId, {
      method: 'GET',
      path: `${this.#key.mount}/keys/${this.#key.name}`,
    });
    const data = (res.body as { data?: Record<string, unknown> } | undefined)?.data;
    const latestVersion = Number(data?.latest_version);
    if (data === undefined || !Number.isSafeInteger(latestVersion) || latestVersion < 1) {
      throw this.#malformed('describe', this.#key.keyId);
    }
    const info: TransitKeyInfo = {
      type: String(data.type),
      derived: data.derived === true,
      latestVersion,
      minDecryptionVersion: Number(data.min_decryption_version) || 1,
    };
    if (!aeadKeyTypes.has(info.type) || info.derived) {
      const why = info.derived
        ? 'is a derived key; create a key without derivation (Coffer binds the context itself)'
        : `is of type ${info.type}; use an aes256-gcm96 (default), aes128-gcm96 or chacha20-poly1305 key`;
      throw new CofferError('invalid_config', `keyring.keyName: Transit key ${this.#key.keyId} ${why}`, {
        details: { issues: [{ path: 'keyring.keyName', message: `the Transit key ${why}` }] },
      });
    }
    return info;
  }

  async generateDataKey(
    key: ExternalKey,
    context: WrapContext,
  ): Promise<{ dataKey: Buffer; wrapped: WrappedDataKey }> {
    const path = this.#pathOf(key.keyId, 'wrap');
    const dataKey = randomBytes(dataKeyLength);
    try {
      return { dataKey, wrapped: await this.#encrypt('wrap', path, dataKey, context) };
    } catch (err) {
      dataKey.fill(0);
      throw err;
    }
  }

  async unwrap(wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer> {
    const path = this.#pathOf(wrapped.keyId, 'unwrap');
    const res = await this.#call('unwrap', path.keyId, {
      method: 'POST',
      path: `${path.mount}/decrypt/${path.name}`,
      body: { ciphertext: this.#ciphertextOf(wrapped) },
    });
    const encoded = (res.body as { data?: { plaintext?: unknown } } | undefined)?.data?.plaintext;
    if (typeof encoded !== 'string') throw this.#malformed('unwrap', path.keyId);
    const dataKey = openBound(Buffer.from(encoded, 'base64'), context);
    if (dataKey === undefined) throw notAuthentic(path.keyId, 'context_mismatch');
    return dataKey;
  }

  async rewrap(wrapped: WrappedDataKey, context: WrapContext, to: ExternalKey): Promise<WrappedDataKey> {
    const from = this.#pathOf(wrapped.keyId, 'rewrap');
    const target = this.#pathOf(to.keyId, 'rewrap');
    if (from.keyId !== target.keyId) {
      // Another Transit key: unwrap here and wrap there (rewrap/ only moves between versions).
      const dataKey = await this.unwrap(wrapped, context);
      try {
        return await this.#encrypt('rewrap', target, dataKey, context);
      } finally {
        dataKey.fill(0);
      }
    }
    const version = Number(to.keyVersion);
    const res = await this.#call('rewrap', from.keyId, {
      method: 'POST',
      path: `${from.mount}/rewrap/${from.name}`,
      body: {
        ciphertext: this.#ciphertextOf(wrapped),
        ...(Number.isSafeInteger(version) && version > 0 ? { key_version: version } : {}),
      },
    });
    return this.#wrappedOf(res, 'rewrap', from.keyId);
  }

  /** Makes a new version of the key current in Vault (`keys/<key>/rotate`) and names it. */
  async rotate(): Promise<ExternalKey> {
    await this.#call('rotate', this.#key.keyId, {
      method: 'POST',
      path: `${this.#key.mount}/keys/${this.#key.name}/rotate`,
      body: {},
    });
    return this.current();
  }

  async close(): Promise<void> {
    this.#session.close();
    this.#http.close();
  }

  async #encrypt(
    operation: string,
    path: KeyPath,
    dataKey: Buffer,
    context: WrapContext,
  ): Promise<WrappedDataKey> {
    const bound = bindContext(dataKey, context);
    const plaintext = bound.toString('base64');
    bound.fill(0);
    const res = await this.#call(operation, path.keyId, {
      method: 'POST',
      path: `${path.mount}/encrypt/${path.name}`,
      body: { plaintext },
    });
    return this.#wrappedOf(res, operation, path.keyId);
  }

  /** The wrap an encrypt or rewrap answered, naming the key version from `vault:v<n>:`. */
  #wrappedOf(res: VaultResponse, operation: string, keyId: string): WrappedDataKey {
    const ciphertext = (res.body as { data?: { ciphertext?: unknown } } | undefined)?.data?.ciphertext;
    const version = typeof ciphertext === 'string' ? versionOf(ciphertext) : undefined;
    if (typeof ciphertext !== 'string' || version === undefined) throw this.#malformed(operation, keyId);
    return { keyId, keyVersion: version, ciphertext: Buffer.from(ciphertext, 'utf8') };
  }

  /** The Vault ciphertext a wrap holds; anything else was damaged on its way (integrity). */
  #ciphertextOf(wrapped: WrappedDataKey): string {
    const text = wrapped.ciphertext.toString('utf8');
    if (versionOf(text) === undefined || !/^[\x21-\x7e]+$/.test(text)) {
      throw notAuthentic(wrapped.keyId, 'invalid_ciphertext');
    }
    return text;
  }

  /**
   * The Vault paths of a key this source holds: the configured one, or another key of the same
   * namespace that older blobs name (after `keyName` or `mount` changed).
   */
  #pathOf(keyId: string, operation: string): KeyPath {
    if (keyId === this.#key.keyId) return this.#key;
    const at = keyId.lastIndexOf('/keys/');
    const inNamespace = keyId.startsWith(this.#namespacePrefix);
    const mount = at === -1 ? '' : keyId.slice(this.#namespacePrefix.length, at);
    const name = at === -1 ? '' : keyId.slice(at + '/keys/'.length);
    if (!inNamespace || mount === '' || name === '' || name.includes('/')) {
      throw keySourceFailure({
        source: this.description,
        operation,
        keyId,
        reason: 'key_not_found',
        vendorCode: 'other_namespace',
      });
    }
    return { keyId, mount: escapePath(mount), name: encodeURIComponent(name) };
  }

  /**
   * One Transit call with Coffer's retry layer (429, 5xx, sealed, timeouts and resets are retried
   * with backoff), translating its failure into Coffer's errors.
   */
  async #call(
    operation: string,
    keyId: string,
    request: Omit<VaultRequest, 'token'>,
  ): Promise<VaultResponse> {
    try {
      try {
        return await withRetries(() => this.#authorized(request), {
          policy: { maxAttempts: this.#config.maxAttempts },
          classify: (err) => {
            const failure = classifyTransitError(err);
            if (!failure.retry) return { retry: false };
            return { retry: true, ...(failure.afterMs === undefined ? {} : { afterMs: failure.afterMs }) };
          },
          onRetry: (err, attempt, delayMs) => {
            const failure = classifyTransitError(err);
            this.#logger.debug(
              {
                keySource: this.type,
                reason: failure.kind,
                vendorCode: failure.vendorCode,
                attempt,
                delayMs,
              },
              'retrying a Vault Transit call',
            );
          },
        });
      } catch (err) {
        if (err instanceof RetriesExhausted)
          throw new CallFailure(classifyTransitError(err.last), err.attempts);
        if (err instanceof CofferError) throw err;
        throw new CallFailure(classifyTransitError(err), 1);
      }
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      const { failure, attempts } = err;
      if (failure.kind === 'invalid_ciphertext') throw notAuthentic(keyId, failure.vendorCode);
      throw keySourceFailure({
        source: this.description,
        operation,
        keyId,
        reason: failure.kind === 'forbidden' ? 'permission_denied' : failure.kind,
        vendorCode: failure.vendorCode,
        attempts,
      });
    }
  }

  /** Sends with the session's token; a 403 is looked into once (a token Vault forgot is replaced). */
  async #authorized(request: Omit<VaultRequest, 'token'>): Promise<VaultResponse> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.#session.token();
      const res = await this.#http.send({ ...request, token });
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status !== 403) throw new TransitStatusError(res.status, classifyTransitAnswer(res));
      const verdict = attempt === 1 ? await this.#session.denied(token) : 'permission_denied';
      if (verdict === 'retry') continue;
      throw new TransitStatusError(403, { kind: verdict, vendorCode: '403', retry: false });
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

/** The key version of a Vault ciphertext (`vault:v3:...` is `3`), or undefined for anything else. */
export function versionOf(ciphertext: string): string | undefined {
  const match = /^vault:v([1-9][0-9]{0,9}):./.exec(ciphertext);
  return match?.[1];
}

function notAuthentic(keyId: string, vendorCode: string | undefined): CofferError {
  return new CofferError(
    'integrity',
    `a data key wrapped by Vault Transit key ${keyId} is not authentic (${vendorCode ?? 'invalid_ciphertext'}): ` +
      'the blob was tampered with, belongs to another secret, version or deployment, or was wrapped by another key',
    { details: { keyId, ...(vendorCode === undefined ? {} : { vendorCode }) } },
  );
}
