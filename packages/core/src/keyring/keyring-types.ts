/**
 * What a sealed value is bound to. It becomes the AES-GCM associated data, so a blob copied
 * onto another secret or version fails to open instead of decrypting to the wrong secret.
 */
export interface SealBinding {
  secretId: string;
  version: number;
}

/** A blob sealed with envelope encryption, and the id of the key-encryption key that wraps its data key. */
export interface SealedBlob {
  kekId: string;
  blob: Buffer;
}

/** Public information about one key-encryption key (never the key material). */
export interface KeyInfo {
  id: string;
  createdAt: string;
  current: boolean;
  /** For a key held by a KMS: the service's id of the key (e.g. its ARN) and the key version, when known. */
  external?: { keyId: string; keyVersion?: string };
}

export interface KeyringStatus {
  /** Where the keys come from: `file` (with its path) or `env` (with the variable's name). */
  source:
    | { type: 'file'; path: string }
    | { type: 'env'; variable: string }
    /** A KMS key source: the package type (`aws-kms`) and the configured key (an ARN, an alias, a name). */
    | { type: 'kms'; provider: string; key: string };
  currentKeyId: string;
  keys: KeyInfo[];
  /** Whether `rotate()` can add a key (a key file and a KMS key can; an environment variable cannot). */
  canRotate: boolean;
  /** Key ids that sealed data in this database references but that the keyring does not hold. */
  missingKeyIds: string[];
}

/**
 * Envelope encryption for everything Coffer stores itself. Each `seal` draws a fresh 256-bit
 * data key, encrypts with AES-256-GCM (binding as associated data), and wraps the data key
 * with the current key-encryption key (KEK). Old KEKs keep opening blobs until re-wrapped.
 *
 * Sealing and opening are asynchronous: with a KMS key source the data key is wrapped and
 * unwrapped by the KMS (a network call, unless the unwrapped key is still in the cache); with
 * the key file or an environment variable they finish without I/O.
 *
 * @example
 * const { kekId, blob } = await keyring.seal(Buffer.from(json), { secretId, version: 1 });
 * const plain = await keyring.open(blob, { secretId, version: 1 });
 */
export interface Keyring {
  readonly currentKeyId: string;
  /** Seal plaintext for a secret version with the current KEK. */
  seal(plaintext: Buffer, binding: SealBinding): Promise<SealedBlob>;
  /**
   * Open a sealed blob. Rejects with CofferError `key_unavailable` (naming the key id) when the
   * KEK is not in the keyring or its KMS cannot be used right now (`details.reason`), and with
   * `integrity` when the blob, its binding or the key is wrong.
   */
  open(blob: Buffer, binding: SealBinding): Promise<Buffer>;
  /** The KEK id a blob was sealed with, read from its header (no decryption). */
  kekIdOf(blob: Buffer): string;
  /**
   * Re-wrap the blob's data key with the current KEK without touching the ciphertext.
   * Resolves to null when the blob already uses the current KEK.
   */
  rewrap(blob: Buffer, binding: SealBinding): Promise<SealedBlob | null>;
  status(): Promise<KeyringStatus>;
  /**
   * Add a new KEK (or, for a KMS, new key material or the key an alias now names), make it
   * current and persist it. Throws `unsupported` for env-sourced keys.
   */
  rotate(): Promise<KeyInfo>;
  /**
   * For keys held elsewhere (a KMS): whether the key can be used right now. Rejects with
   * `key_unavailable` (with `details.reason`) when the KMS cannot be reached or refuses the key.
   * Local keys are always ready and leave it out.
   */
  ready?(): Promise<void>;
  /** Releases what the key source holds (a KMS client, cached data keys). */
  close?(): Promise<void>;
}
