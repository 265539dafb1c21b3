import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AwsError,
  checkLength,
  constraintError,
  type Json,
  type RateQuota,
  readBoolean,
  readInteger,
  readString,
} from '@coffer/aws-store-kit/double';

/**
 * AWS KMS's request quotas (requests a second, per account and region) in the double's region:
 * the symmetric cryptographic operations share one bucket, the management operations have their
 * own (the defaults of the KMS request-quota table; the double's region is us-east-1).
 */
export const kmsRateQuotas: Readonly<Record<string, RateQuota>> = Object.freeze({
  Encrypt: { group: 'cryptographic-symmetric', perSecond: 100_000 },
  Decrypt: { group: 'cryptographic-symmetric', perSecond: 100_000 },
  GenerateDataKey: { group: 'cryptographic-symmetric', perSecond: 100_000 },
  GenerateDataKeyWithoutPlaintext: { group: 'cryptographic-symmetric', perSecond: 100_000 },
  ReEncrypt: { group: 'cryptographic-symmetric', perSecond: 100_000 },
  CreateKey: { group: 'CreateKey', perSecond: 50 },
  DescribeKey: { group: 'DescribeKey', perSecond: 2_000 },
  CreateAlias: { group: 'CreateAlias', perSecond: 5 },
  UpdateAlias: { group: 'UpdateAlias', perSecond: 5 },
  DeleteAlias: { group: 'DeleteAlias', perSecond: 5 },
  ListAliases: { group: 'ListAliases', perSecond: 500 },
  EnableKey: { group: 'EnableKey', perSecond: 5 },
  DisableKey: { group: 'DisableKey', perSecond: 5 },
  EnableKeyRotation: { group: 'EnableKeyRotation', perSecond: 5 },
  DisableKeyRotation: { group: 'DisableKeyRotation', perSecond: 5 },
  GetKeyRotationStatus: { group: 'GetKeyRotationStatus', perSecond: 1_000 },
  RotateKeyOnDemand: { group: 'RotateKeyOnDemand', perSecond: 5 },
  ListKeyRotations: { group: 'ListKeyRotations', perSecond: 100 },
  ScheduleKeyDeletion: { group: 'ScheduleKeyDeletion', perSecond: 5 },
  CancelKeyDeletion: { group: 'CancelKeyDeletion', perSecond: 5 },
});

/** Documented resource limits the double enforces. */
export const kmsLimits = Object.freeze({
  /** Bytes of plaintext Encrypt takes. */
  maxPlaintextBytes: 4096,
  /** Bytes of ciphertext Decrypt and ReEncrypt take. */
  maxCiphertextBytes: 6144,
  /** On-demand rotations one key may have in its lifetime (a quota AWS does not raise). */
  maxOnDemandRotations: 10,
  /** Bytes GenerateDataKey's NumberOfBytes may ask for. */
  maxDataKeyBytes: 1024,
});

const keyIdPattern = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const aliasNamePattern = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;
/** The double's own ciphertext layout: `CKD1`, key id, key material id, IV, tag, data. */
const blobMagic = Buffer.from('CKD1', 'ascii');

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

interface KeyMaterial {
  /** 64 hex characters, as KMS's KeyMaterialId. */
  id: string;
  key: Buffer;
  rotationDate: number;
  rotationType: 'AUTOMATIC' | 'ON_DEMAND' | undefined;
}

interface KmsKey {
  keyId: string;
  arn: string;
  description: string;
  creationDate: number;
  state: KeyState;
  deletionDate: number | undefined;
  pendingWindowInDays: number | undefined;
  /** Every material the key ever had; the last is current. Old ones still decrypt. */
  materials: KeyMaterial[];
  rotationEnabled: boolean;
  rotationPeriodInDays: number | undefined;
  onDemandRotations: number;
}

interface Alias {
  name: string;
  targetKeyId: string;
  creationDate: number;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64');
}

function readBlob(input: Json, key: string, required: true, max: number): Buffer;
function readBlob(input: Json, key: string, required: boolean, max: number): Buffer | undefined;
function readBlob(input: Json, key: string, required: boolean, max: number): Buffer | undefined {
  const text = readString(input, key, required as false);
  if (text === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw new AwsError('SerializationException', `${key} is not base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 1 || bytes.length > max) {
    throw constraintError(key, `Member must have length less than or equal to ${max}`);
  }
  return bytes;
}

function readContext(input: Json, key: string): Record<string, string> {
  const value = input[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('SerializationException', `${key} must be a map`);
  }
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') throw new AwsError('SerializationException', `${key} values must be strings`);
  }
  return value as Record<string, string>;
}

/** The encryption context as the authenticated data: order-independent, exact otherwise. */
function contextBytes(context: Record<string, string>): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

/**
 * The state of an AWS KMS double: symmetric encryption keys with their key material history,
 * aliases, and the operations Coffer and an operator use, answering as KMS documents (the
 * ciphertext format is the double's own and opaque, but like KMS's it names the key and key
 * material that made it, and the encryption context must match exactly to decrypt).
 *
 * @example
 * const store = new KmsStore('us-east-1', '123456789012');
 * const { KeyMetadata } = store.handle('CreateKey', {}) as { KeyMetadata: { KeyId: string } };
 */
export class KmsStore {
  readonly #keys = new Map<string, KmsKey>();
  readonly #aliases = new Map<string, Alias>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {}

  /** Serves one operation of the TrentService API. */
  handle(operation: string, input: Json): unknown {
    switch (operation) {
      case 'CreateKey':
        return this.#createKey(input);
      case 'DescribeKey':
        return { KeyMetadata: this.#metadata(this.#resolve(readString(input, 'KeyId', true))) };
      case 'ListKeys':
        return {
          Keys: [...this.#keys.values()].map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
          Truncated: false,
        };
      case 'CreateAlias':
        return this.#createAlias(input);
      case 'UpdateAlias':
        return this.#updateAlias(input);
      case 'DeleteAlias':
        return this.#deleteAlias(input);
      case 'ListAliases':
        return this.#listAliases(input);
      case 'Encrypt':
        return this.#encrypt(input);
      case 'Decrypt':
        return this.#decrypt(input);
      case 'GenerateDataKey':
        return this.#generateDataKey(input, true);
      case 'GenerateDataKeyWithoutPlaintext':
        return this.#generateDataKey(input, false);
      case 'ReEncrypt':
        return this.#reEncrypt(input);
      case 'EnableKeyRotation':
        return this.#setRotation(input, true);
      case 'DisableKeyRotation':
        return this.#setRotation(input, false);
      case 'GetKeyRotationStatus':
        return this.#rotationStatus(input);
      case 'RotateKeyOnDemand':
        return this.#rotateOnDemand(input);
      case 'ListKeyRotations':
        return this.#listRotations(input);
      case 'EnableKey':
        return this.#setEnabled(input, true);
      case 'DisableKey':
        return this.#setEnabled(input, false);
      case 'ScheduleKeyDeletion':
        return this.#scheduleDeletion(input);
      case 'CancelKeyDeletion':
        return this.#cancelDeletion(input);
      default:
        throw new AwsError('UnknownOperationException', '');
    }
  }

  /** Deletes a key at once, as if its waiting period had passed (tests only). */
  deleteKeyNow(keyId: string): boolean {
    const key = this.#keys.get(keyId);
    if (key === undefined) return false;
    this.#keys.delete(keyId);
    for (const [name, alias] of this.#aliases) if (alias.targetKeyId === keyId) this.#aliases.delete(name);
    return true;
  }

  /** The key ids the double holds. */
  keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  #createKey(input: Json): unknown {
    const spec =
      readString(input, 'KeySpec') ?? readString(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
    const usage = readString(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
    const origin = readString(input, 'Origin') ?? 'AWS_KMS';
    const description = readString(input, 'Description') ?? '';
    checkLength('Description', description, 0, 8192);
    if (spec !== 'SYMMETRIC_DEFAULT' || usage !== 'ENCRYPT_DECRYPT' || origin !== 'AWS_KMS') {
      throw new AwsError('UnsupportedOperationException', 'The double makes symmetric encryption keys only.');
    }
    const multiRegion = readBoolean(input, 'MultiRegion') ?? false;
    const keyId = multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
    const key: KmsKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`,
      description,
      creationDate: now(),
      state: 'Enabled',
      deletionDate: undefined,
      pendingWindowInDays: undefined,
      materials: [newMaterial(undefined)],
      rotationEnabled: false,
      rotationPeriodInDays: undefined,
      onDemandRotations: 0,
    };
    this.#keys.set(keyId, key);
    return { KeyMetadata: this.#metadata(key) };
  }

  #metadata(key: KmsKey): Json {
    return {
      AWSAccountId: this.accountId,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: key.creationDate,
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.state,
      ...(key.deletionDate === undefined ? {} : { DeletionDate: key.deletionDate }),
      ...(key.pendingWindowInDays === undefined
        ? {}
        : { PendingDeletionWindowInDays: key.pendingWindowInDays }),
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: key.keyId.startsWith('mrk-'),
      CurrentKeyMaterialId: key.materials.at(-1)!.id,
    };
  }

  /** A key by key id, key ARN, alias name or alias ARN; NotFoundException as KMS answers. */
  #resolve(reference: string): KmsKey {
    checkLength('KeyId', reference, 1, 2048);
    const arn = /^arn:aws:kms:([^:]+):(\d{12}):(key|alias)\/(.+)$/.exec(reference);
    let keyId: string | undefined;
    if (arn !== null) {
      const [, region, account, kind, rest] = arn as unknown as string[];
      if (region !== this.region || account !== this.accountId) {
        throw new AwsError('NotFoundException', `Key '${reference}' does not exist`);
      }
      keyId = kind === 'key' ? rest : this.#aliases.get(`alias/${rest}`)?.targetKeyId;
    } else if (reference.startsWith('arn:')) {
      throw new AwsError('InvalidArnException', `Invalid arn ${reference}`);
    } else if (reference.startsWith('alias/')) {
      keyId = this.#aliases.get(reference)?.targetKeyId;
      if (keyId === undefined)
        throw new AwsError('NotFoundException', `Alias ${this.#aliasArn(reference)} is not found.`);
    } else {
      keyId = reference;
      if (!keyIdPattern.test(reference))
        throw new AwsError('NotFoundException', `Invalid keyId '${reference}'`);
    }
    const key = keyId === undefined ? undefined : this.#keys.get(keyId);
    if (key === undefined)
      throw new AwsError('NotFoundException', `Key '${this.#keyArn(keyId ?? reference)}' does not exist`);
    return key;
  }

  #keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  #aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }

  /** A key that cryptographic operations may use; DisabledException or KMSInvalidStateException otherwise. */
  #usable(key: KmsKey): KmsKey {
    if (key.state === 'Disabled') throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    return key;
  }

  #createAlias(input: Json): unknown {
    const name = readString(input, 'AliasName', true);
    const target = readString(input, 'TargetKeyId', true);
    this.#checkAliasName(name);
    if (this.#aliases.has(name)) {
      throw new AwsError(
        'AlreadyExistsException',
        `An alias with the name ${this.#aliasArn(name)} already exists`,
      );
    }
    const key = this.#aliasTarget(target);
    this.#aliases.set(name, { name, targetKeyId: key.keyId, creationDate: now() });
    return {};
  }

  #updateAlias(input: Json): unknown {
    const name = readString(input, 'AliasName', true);
    const target = readString(input, 'TargetKeyId', true);
    const alias = this.#aliases.get(name);
    if (alias === undefined)
      throw new AwsError('NotFoundException', `Alias ${this.#aliasArn(name)} is not found.`);
    alias.targetKeyId = this.#aliasTarget(target).keyId;
    return {};
  }

  #deleteAlias(input: Json): unknown {
    const name = readString(input, 'AliasName', true);
    if (!this.#aliases.delete(name)) {
      throw new AwsError('NotFoundException', `Alias ${this.#aliasArn(name)} is not found.`);
    }
    return {};
  }

  #checkAliasName(name: string): void {
    checkLength('AliasName', name, 1, 256);
    if (!aliasNamePattern.test(name)) {
      throw constraintError(
        'AliasName',
        'Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$',
      );
    }
    if (name.startsWith('alias/aws/')) {
      throw new AwsError('InvalidAliasNameException', 'Alias must not begin with alias/aws/.');
    }
  }

  #aliasTarget(target: string): KmsKey {
    if (target.startsWith('alias/') || /:alias\//.test(target)) {
      throw new AwsError('ValidationException', 'An alias must point to a KMS key, not to another alias.');
    }
    const key = this.#resolve(target);
    if (key.state === 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    return key;
  }

  #listAliases(input: Json): unknown {
    const keyRef = readString(input, 'KeyId');
    const keyId = keyRef === undefined ? undefined : this.#resolve(keyRef).keyId;
    const aliases = [...this.#aliases.values()]
      .filter((a) => keyId === undefined || a.targetKeyId === keyId)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((a) => ({
        AliasName: a.name,
        AliasArn: this.#aliasArn(a.name),
        TargetKeyId: a.targetKeyId,
        CreationDate: a.creationDate,
        LastUpdatedDate: a.creationDate,
      }));
    return { Aliases: aliases, Truncated: false };
  }

  #seal(key: KmsKey, plaintext: Buffer, context: Record<string, string>): Buffer {
    const material = key.materials.at(-1)!;
    const header = Buffer.concat([
      blobMagic,
      Buffer.from([key.keyId.length]),
      Buffer.from(key.keyId, 'ascii'),
      Buffer.from(material.id, 'hex'),
    ]);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', material.key, iv);
    cipher.setAAD(Buffer.concat([header, contextBytes(context)]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
  }

  /** Opens a ciphertext of this double; InvalidCiphertextException for anything that does not authenticate. */
  #open(
    blob: Buffer,
    context: Record<string, string>,
    keyRef: string | undefined,
  ): { key: KmsKey; material: KeyMaterial; plaintext: Buffer } {
    const invalid = () => new AwsError('InvalidCiphertextException', '');
    if (blob.length < blobMagic.length + 1 || !blob.subarray(0, blobMagic.length).equals(blobMagic))
      throw invalid();
    const idLength = blob[blobMagic.length]!;
    const idEnd = blobMagic.length + 1 + idLength;
    if (blob.length < idEnd + 32 + 12 + 16) throw invalid();
    const keyId = blob.toString('ascii', blobMagic.length + 1, idEnd);
    const materialId = blob.subarray(idEnd, idEnd + 32).toString('hex');
    const key = this.#keys.get(keyId);
    if (keyRef !== undefined) {
      const named = this.#resolve(keyRef);
      if (named.keyId !== keyId) {
        throw new AwsError(
          'IncorrectKeyException',
          'The key ID in the request does not identify a CMK that can perform this operation.',
        );
      }
    }
    if (key === undefined)
      throw new AwsError('NotFoundException', `Key '${this.#keyArn(keyId)}' does not exist`);
    this.#usable(key);
    const material = key.materials.find((m) => m.id === materialId);
    if (material === undefined) throw invalid();
    const header = blob.subarray(0, idEnd + 32);
    try {
      const decipher = createDecipheriv('aes-256-gcm', material.key, blob.subarray(idEnd + 32, idEnd + 44));
      decipher.setAAD(Buffer.concat([header, contextBytes(context)]));
      decipher.setAuthTag(blob.subarray(idEnd + 44, idEnd + 60));
      const plaintext = Buffer.concat([decipher.update(blob.subarray(idEnd + 60)), decipher.final()]);
      return { key, material, plaintext };
    } catch {
      throw invalid();
    }
  }

  #checkAlgorithm(input: Json, key: string): void {
    const algorithm = readString(input, key);
    if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
      throw new AwsError(
        'InvalidKeyUsageException',
        `${algorithm} is not supported by a symmetric encryption key.`,
      );
    }
  }

  #encrypt(input: Json): unknown {
    const key = this.#usable(this.#resolve(readString(input, 'KeyId', true)));
    const plaintext = readBlob(input, 'Plaintext', true, kmsLimits.maxPlaintextBytes);
    this.#checkAlgorithm(input, 'EncryptionAlgorithm');
    const context = readContext(input, 'EncryptionContext');
    return {
      CiphertextBlob: b64(this.#seal(key, plaintext, context)),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  }

  #decrypt(input: Json): unknown {
    const blob = readBlob(input, 'CiphertextBlob', true, kmsLimits.maxCiphertextBytes);
    this.#checkAlgorithm(input, 'EncryptionAlgorithm');
    const opened = this.#open(blob, readContext(input, 'EncryptionContext'), readString(input, 'KeyId'));
    return {
      KeyId: opened.key.arn,
      Plaintext: b64(opened.plaintext),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      KeyMaterialId: opened.material.id,
    };
  }

  #generateDataKey(input: Json, withPlaintext: boolean): unknown {
    const key = this.#usable(this.#resolve(readString(input, 'KeyId', true)));
    const spec = readString(input, 'KeySpec');
    const count = readInteger(input, 'NumberOfBytes');
    if ((spec === undefined) === (count === undefined)) {
      throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
    }
    if (spec !== undefined && spec !== 'AES_256' && spec !== 'AES_128') {
      throw constraintError('KeySpec', 'Member must satisfy enum value set: [AES_256, AES_128]');
    }
    if (count !== undefined && (count < 1 || count > kmsLimits.maxDataKeyBytes)) {
      throw constraintError(
        'NumberOfBytes',
        `Member must have value between 1 and ${kmsLimits.maxDataKeyBytes}`,
      );
    }
    const dataKey = randomBytes(count ?? (spec === 'AES_128' ? 16 : 32));
    const context = readContext(input, 'EncryptionContext');
    return {
      CiphertextBlob: b64(this.#seal(key, dataKey, context)),
      ...(withPlaintext ? { Plaintext: b64(dataKey) } : {}),
      KeyId: key.arn,
      KeyMaterialId: key.materials.at(-1)!.id,
    };
  }

  #reEncrypt(input: Json): unknown {
    const blob = readBlob(input, 'CiphertextBlob', true, kmsLimits.maxCiphertextBytes);
    const destination = readString(input, 'DestinationKeyId', true);
    this.#checkAlgorithm(input, 'SourceEncryptionAlgorithm');
    this.#checkAlgorithm(input, 'DestinationEncryptionAlgorithm');
    const opened = this.#open(
      blob,
      readContext(input, 'SourceEncryptionContext'),
      readString(input, 'SourceKeyId'),
    );
    const to = this.#usable(this.#resolve(destination));
    try {
      return {
        CiphertextBlob: b64(
          this.#seal(to, opened.plaintext, readContext(input, 'DestinationEncryptionContext')),
        ),
        SourceKeyId: opened.key.arn,
        KeyId: to.arn,
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        SourceKeyMaterialId: opened.material.id,
        DestinationKeyMaterialId: to.materials.at(-1)!.id,
      };
    } finally {
      opened.plaintext.fill(0);
    }
  }

  #setRotation(input: Json, enabled: boolean): unknown {
    const key = this.#resolve(readString(input, 'KeyId', true));
    this.#usable(key);
    if (enabled) {
      const period = readInteger(input, 'RotationPeriodInDays') ?? 365;
      if (period < 90 || period > 2560) {
        throw constraintError('RotationPeriodInDays', 'Member must have value between 90 and 2560');
      }
      key.rotationPeriodInDays = period;
    } else {
      key.rotationPeriodInDays = undefined;
    }
    key.rotationEnabled = enabled;
    return {};
  }

  #rotationStatus(input: Json): unknown {
    const key = this.#resolve(readString(input, 'KeyId', true));
    return {
      KeyRotationEnabled: key.rotationEnabled,
      KeyId: key.arn,
      ...(key.rotationPeriodInDays === undefined ? {} : { RotationPeriodInDays: key.rotationPeriodInDays }),
      ...(key.rotationEnabled
        ? {
            NextRotationDate: key.materials.at(-1)!.rotationDate + (key.rotationPeriodInDays ?? 365) * 86_400,
          }
        : {}),
    };
  }

  #rotateOnDemand(input: Json): unknown {
    const key = this.#usable(this.#resolve(readString(input, 'KeyId', true)));
    if (key.onDemandRotations >= kmsLimits.maxOnDemandRotations) {
      throw new AwsError(
        'LimitExceededException',
        `The on-demand rotations of ${key.arn} reached the limit of ${kmsLimits.maxOnDemandRotations}.`,
      );
    }
    key.onDemandRotations++;
    // KMS rotates in the background; the double finishes at once.
    key.materials.push(newMaterial('ON_DEMAND'));
    return { KeyId: key.keyId };
  }

  /** Runs an automatic rotation now, as KMS does when the rotation period is over (tests only). */
  rotateAutomatically(keyId: string): boolean {
    const key = this.#keys.get(keyId);
    if (key === undefined || !key.rotationEnabled) return false;
    key.materials.push(newMaterial('AUTOMATIC'));
    return true;
  }

  #listRotations(input: Json): unknown {
    const key = this.#resolve(readString(input, 'KeyId', true));
    return {
      Rotations: key.materials
        .filter((m) => m.rotationType !== undefined)
        .map((m) => ({
          KeyId: key.keyId,
          KeyMaterialId: m.id,
          RotationDate: m.rotationDate,
          RotationType: m.rotationType,
        })),
      Truncated: false,
    };
  }

  #setEnabled(input: Json, enabled: boolean): unknown {
    const key = this.#resolve(readString(input, 'KeyId', true));
    if (key.state === 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    key.state = enabled ? 'Enabled' : 'Disabled';
    return {};
  }

  #scheduleDeletion(input: Json): unknown {
    const key = this.#resolve(readString(input, 'KeyId', true));
    const days = readInteger(input, 'PendingWindowInDays') ?? 30;
    if (days < 7 || days > 30)
      throw constraintError('PendingWindowInDays', 'Member must have value between 7 and 30');
    if (key.state === 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    key.state = 'PendingDeletion';
    key.pendingWindowInDays = days;
    key.deletionDate = now() + days * 86_400;
    return {
      KeyId: key.arn,
      DeletionDate: key.deletionDate,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: days,
    };
  }

  #cancelDeletion(input: Json): unknown {
    const key = this.#resolve(readString(input, 'KeyId', true));
    if (key.state !== 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
    }
    key.state = 'Disabled';
    key.deletionDate = undefined;
    key.pendingWindowInDays = undefined;
    return { KeyId: key.arn };
  }
}

function newMaterial(rotationType: KeyMaterial['rotationType']): KeyMaterial {
  const key = randomBytes(32);
  return {
    id: createHash('sha256').update(key).update(randomBytes(16)).digest('hex'),
    key,
    rotationDate: now(),
    rotationType,
  };
}
