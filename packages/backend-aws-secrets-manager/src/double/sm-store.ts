import { randomBytes, randomUUID } from 'node:crypto';
import {
  AwsError,
  readBoolean as bool,
  readInteger as int,
  type Json,
  checkLength as lengthCheck,
  paginate,
  readString as str,
  readStringList as stringList,
} from '@coffer/aws-store-kit/double';

/**
 * The state and operations of a Secrets Manager double, after the Secrets Manager API
 * reference: requests and answers as the JSON the wire carries, errors as AwsError.
 */

/** Documented maxima of the service. */
export const secretsManagerQuotas = Object.freeze({
  secretStringBytes: 65_536,
  /** Staging labels attached across all versions of one secret. */
  stagingLabelsPerSecret: 20,
  /** Secrets Manager drops unlabelled versions past about this many. */
  versionsPerSecret: 100,
  tagsPerSecret: 50,
  nameLength: 512,
  listMaxResults: 100,
});

interface Version {
  id: string;
  secretString?: string;
  secretBinary?: string;
  stages: Set<string>;
  createdAt: number;
}

interface Secret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Map<string, string>;
  /** In creation order. */
  versions: Map<string, Version>;
  createdAt: number;
  lastChangedAt: number;
  deletedAt?: number;
  deletionDate?: number;
  /** A creation counter, to order secrets made within the same millisecond. */
  seq: number;
}

const namePattern = /^[A-Za-z0-9/_+=.@-]+$/;
const secondsOf = (ms: number) => ms / 1000;

function tagList(input: Json, key: string): { Key: string; Value: string }[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new AwsError('SerializationException', `${key} must be a list`);
  return value.map((tag: unknown) => {
    const t = (tag ?? {}) as Json;
    const k = str(t, 'Key', true);
    const v = str(t, 'Value') ?? '';
    lengthCheck('Key', k, 1, 128);
    lengthCheck('Value', v, 0, 256);
    if (k.toLowerCase().startsWith('aws:')) {
      throw new AwsError('InvalidParameterException', 'Tag keys starting with aws: are reserved.');
    }
    return { Key: k, Value: v };
  });
}

/** The state behind one double: secrets of one account in one region. */
export class SecretsManagerStore {
  readonly #secrets = new Map<string, Secret>();
  #seq = 0;

  constructor(
    readonly region: string,
    readonly accountId: string,
    readonly now: () => number = Date.now,
  ) {}

  /** Names of the secrets held, pending deletion included. */
  names(): string[] {
    return [...this.#secrets.keys()];
  }

  /** Removes a secret at once, as someone with console access could (fault injection). */
  removeSecret(name: string): boolean {
    return this.#secrets.delete(name);
  }

  /** Removes the version that carries `stage`, as if it had been deleted behind the client's back. */
  removeVersion(name: string, stage: string): boolean {
    const secret = this.#secrets.get(name);
    if (secret === undefined) return false;
    for (const [id, version] of secret.versions) {
      if (version.stages.has(stage)) {
        secret.versions.delete(id);
        return true;
      }
    }
    return false;
  }

  /** Runs one operation by its `X-Amz-Target` name. */
  handle(operation: string, input: Json): Json {
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'ListSecrets':
        return this.listSecrets(input);
      case 'ListSecretVersionIds':
        return this.listSecretVersionIds(input);
      case 'UpdateSecretVersionStage':
        return this.updateSecretVersionStage(input);
      case 'DeleteSecret':
        return this.deleteSecret(input);
      case 'RestoreSecret':
        return this.restoreSecret(input);
      case 'TagResource':
        return this.tagResource(input);
      case 'UntagResource':
        return this.untagResource(input);
      default:
        throw new AwsError('UnknownOperationException', '');
    }
  }

  createSecret(input: Json): Json {
    const name = str(input, 'Name', true);
    lengthCheck('Name', name, 1, secretsManagerQuotas.nameLength);
    if (!namePattern.test(name)) {
      throw new AwsError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const token = str(input, 'ClientRequestToken');
    lengthCheck('ClientRequestToken', token, 32, 64);
    const value = this.#valueOf(input, false);
    const description = str(input, 'Description');
    lengthCheck('Description', description, 0, 2048);
    const kmsKeyId = str(input, 'KmsKeyId');
    const tags = tagList(input, 'Tags') ?? [];
    if (input.AddReplicaRegions !== undefined) {
      throw new AwsError('InvalidRequestException', 'Replication is not available in this region.');
    }
    const existing = this.#secrets.get(name);
    if (existing !== undefined) {
      if (existing.deletedAt !== undefined) {
        throw new AwsError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      const same = token === undefined ? undefined : existing.versions.get(token);
      if (same !== undefined && value !== undefined && sameValue(same, value)) {
        return { ARN: existing.arn, Name: existing.name, VersionId: same.id };
      }
      throw new AwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    if (tags.length > secretsManagerQuotas.tagsPerSecret) {
      throw new AwsError('InvalidParameterException', 'A secret can have at most 50 tags.');
    }
    const at = this.now();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      name,
      tags: new Map(tags.map((t) => [t.Key, t.Value])),
      versions: new Map(),
      createdAt: at,
      lastChangedAt: at,
      seq: ++this.#seq,
      ...(description === undefined ? {} : { description }),
      ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
    };
    this.#secrets.set(name, secret);
    if (value === undefined) return { ARN: secret.arn, Name: name };
    const version = this.#addVersion(secret, token ?? randomUUID(), value, ['AWSCURRENT']);
    return { ARN: secret.arn, Name: name, VersionId: version.id };
  }

  putSecretValue(input: Json): Json {
    const secret = this.#live(input);
    const token = str(input, 'ClientRequestToken');
    lengthCheck('ClientRequestToken', token, 32, 64);
    const value = this.#valueOf(input, true)!;
    const stages = stringList(input, 'VersionStages');
    if (stages !== undefined) {
      if (stages.length < 1 || stages.length > 20) {
        throw new AwsError(
          'ValidationException',
          "1 validation error detected: Value at 'versionStages' failed to satisfy constraint: Member must have length between 1 and 20",
        );
      }
      for (const s of stages) lengthCheck('VersionStages', s, 1, 256);
    }
    const id = token ?? randomUUID();
    const existing = secret.versions.get(id);
    if (existing !== undefined) {
      if (sameValue(existing, value)) {
        return { ARN: secret.arn, Name: secret.name, VersionId: id, VersionStages: [...existing.stages] };
      }
      throw new AwsError(
        'ResourceExistsException',
        'You can’t modify an existing version, you can only create a new version.',
      );
    }
    // the first version of a secret always becomes AWSCURRENT
    const wanted = new Set(stages ?? ['AWSCURRENT']);
    if (
      secret.versions.size === 0 ||
      ![...secret.versions.values()].some((v) => v.stages.has('AWSCURRENT'))
    ) {
      wanted.add('AWSCURRENT');
    }
    const version = this.#addVersion(secret, id, value, [...wanted]);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  getSecretValue(input: Json): Json {
    const secret = this.#live(input);
    const versionId = str(input, 'VersionId');
    lengthCheck('VersionId', versionId, 32, 64);
    const stage = str(input, 'VersionStage');
    lengthCheck('VersionStage', stage, 1, 256);
    let version: Version | undefined;
    if (versionId !== undefined) {
      version = secret.versions.get(versionId);
      if (version === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      if (stage !== undefined && !version.stages.has(stage)) {
        throw new AwsError(
          'InvalidParameterException',
          'You provided a VersionStage that is not associated to the provided VersionId.',
        );
      }
    } else {
      const label = stage ?? 'AWSCURRENT';
      version = [...secret.versions.values()].find((v) => v.stages.has(label));
      if (version === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${label}`,
        );
      }
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      VersionStages: [...version.stages],
      CreatedDate: secondsOf(version.createdAt),
      ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { SecretBinary: version.secretBinary }),
    };
  }

  describeSecret(input: Json): Json {
    const secret = this.#find(input);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description === undefined ? {} : { Description: secret.description }),
      ...(secret.kmsKeyId === undefined ? {} : { KmsKeyId: secret.kmsKeyId }),
      RotationEnabled: false,
      LastChangedDate: secondsOf(secret.lastChangedAt),
      CreatedDate: secondsOf(secret.createdAt),
      ...(secret.deletedAt === undefined ? {} : { DeletedDate: secondsOf(secret.deletedAt) }),
      ...(secret.tags.size === 0 ? {} : { Tags: tagsOf(secret) }),
      VersionIdsToStages: stagesMap(secret),
    };
  }

  listSecrets(input: Json): Json {
    const maxResults = int(input, 'MaxResults') ?? secretsManagerQuotas.listMaxResults;
    if (maxResults < 1 || maxResults > secretsManagerQuotas.listMaxResults) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100",
      );
    }
    const includePlanned = bool(input, 'IncludePlannedDeletion') ?? false;
    const sortOrder = str(input, 'SortOrder') ?? 'asc';
    if (sortOrder !== 'asc' && sortOrder !== 'desc') {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]",
      );
    }
    const filters = parseFilters(input.Filters);
    const all = [...this.#secrets.values()]
      .filter((s) => includePlanned || s.deletedAt === undefined)
      .filter((s) => filters.every((f) => matchesFilter(s, f)))
      .sort((a, b) => (sortOrder === 'asc' ? a.seq - b.seq : b.seq - a.seq));
    const { page, next } = paginate(all, (s) => s.seq, str(input, 'NextToken'), maxResults, {
      order: sortOrder,
      invalidTokenType: 'InvalidNextTokenException',
    });
    return {
      SecretList: page.map((secret) => ({
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description === undefined ? {} : { Description: secret.description }),
        ...(secret.kmsKeyId === undefined ? {} : { KmsKeyId: secret.kmsKeyId }),
        LastChangedDate: secondsOf(secret.lastChangedAt),
        CreatedDate: secondsOf(secret.createdAt),
        ...(secret.deletedAt === undefined ? {} : { DeletedDate: secondsOf(secret.deletedAt) }),
        ...(secret.tags.size === 0 ? {} : { Tags: tagsOf(secret) }),
        SecretVersionsToStages: stagesMap(secret),
      })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  listSecretVersionIds(input: Json): Json {
    const secret = this.#find(input);
    const maxResults = int(input, 'MaxResults') ?? secretsManagerQuotas.listMaxResults;
    if (maxResults < 1 || maxResults > secretsManagerQuotas.listMaxResults) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100",
      );
    }
    const includeDeprecated = bool(input, 'IncludeDeprecated') ?? false;
    const versions = [...secret.versions.values()].filter((v) => includeDeprecated || v.stages.size > 0);
    const order = new Map(versions.map((v, i) => [v.id, i]));
    const { page, next } = paginate(versions, (v) => order.get(v.id)!, str(input, 'NextToken'), maxResults, {
      invalidTokenType: 'InvalidNextTokenException',
    });
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map((v) => ({
        VersionId: v.id,
        VersionStages: [...v.stages],
        CreatedDate: secondsOf(v.createdAt),
      })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  updateSecretVersionStage(input: Json): Json {
    const secret = this.#live(input);
    const stage = str(input, 'VersionStage', true);
    lengthCheck('VersionStage', stage, 1, 256);
    const removeFrom = str(input, 'RemoveFromVersionId');
    const moveTo = str(input, 'MoveToVersionId');
    lengthCheck('RemoveFromVersionId', removeFrom, 32, 64);
    lengthCheck('MoveToVersionId', moveTo, 32, 64);
    const holder = [...secret.versions.values()].find((v) => v.stages.has(stage));
    if (removeFrom !== undefined) {
      const from = secret.versions.get(removeFrom);
      if (from === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the version ${removeFrom}.`,
        );
      }
      if (!from.stages.has(stage)) {
        throw new AwsError(
          'InvalidParameterException',
          `The staging label ${stage} is not attached to the version ${removeFrom}.`,
        );
      }
    }
    if (moveTo === undefined) {
      if (removeFrom === undefined) {
        throw new AwsError(
          'InvalidParameterException',
          'You must specify MoveToVersionId or RemoveFromVersionId.',
        );
      }
      if (stage === 'AWSCURRENT') {
        throw new AwsError(
          'InvalidParameterException',
          'You can only move AWSCURRENT to another version, not remove it: specify MoveToVersionId.',
        );
      }
      secret.versions.get(removeFrom)!.stages.delete(stage);
      secret.lastChangedAt = this.now();
      return { ARN: secret.arn, Name: secret.name };
    }
    const to = secret.versions.get(moveTo);
    if (to === undefined) {
      throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the version ${moveTo}.`);
    }
    if (holder !== undefined && holder !== to && removeFrom !== holder.id) {
      throw new AwsError(
        'InvalidParameterException',
        `The staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    this.#attach(secret, to, [stage]);
    secret.lastChangedAt = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  deleteSecret(input: Json): Json {
    const secret = this.#find(input);
    const window = int(input, 'RecoveryWindowInDays');
    const force = bool(input, 'ForceDeleteWithoutRecovery') ?? false;
    if (window !== undefined && force) {
      throw new AwsError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (window !== undefined && (window < 7 || window > 30)) {
      throw new AwsError(
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const at = this.now();
    if (force) {
      this.#secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: secondsOf(at) };
    }
    if (secret.deletedAt !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    secret.deletedAt = at;
    secret.deletionDate = at + (window ?? 30) * 86_400_000;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: secondsOf(secret.deletionDate) };
  }

  restoreSecret(input: Json): Json {
    const secret = this.#find(input);
    delete secret.deletedAt;
    delete secret.deletionDate;
    return { ARN: secret.arn, Name: secret.name };
  }

  tagResource(input: Json): Json {
    const secret = this.#live(input);
    const tags = tagList(input, 'Tags');
    if (tags === undefined)
      throw new AwsError('ValidationException', "Value null at 'tags' failed to satisfy constraint");
    const merged = new Map(secret.tags);
    for (const t of tags) merged.set(t.Key, t.Value);
    if (merged.size > secretsManagerQuotas.tagsPerSecret) {
      throw new AwsError('InvalidParameterException', 'A secret can have at most 50 tags.');
    }
    secret.tags = merged;
    return {};
  }

  untagResource(input: Json): Json {
    const secret = this.#live(input);
    for (const key of stringList(input, 'TagKeys') ?? []) secret.tags.delete(key);
    return {};
  }

  /** The secret by name or ARN, pending deletion included. */
  #find(input: Json): Secret {
    const id = str(input, 'SecretId', true);
    lengthCheck('SecretId', id, 1, 2048);
    this.#expire();
    const secret =
      this.#secrets.get(id) ??
      (id.startsWith('arn:') ? [...this.#secrets.values()].find((s) => s.arn === id) : undefined);
    if (secret === undefined) {
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return secret;
  }

  /** The secret, refusing one pending deletion as the service does. */
  #live(input: Json): Secret {
    const secret = this.#find(input);
    if (secret.deletedAt !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  /** Secrets whose recovery window ran out are gone. */
  #expire(): void {
    const now = this.now();
    for (const [name, secret] of this.#secrets) {
      if (secret.deletionDate !== undefined && secret.deletionDate <= now) this.#secrets.delete(name);
    }
  }

  #valueOf(input: Json, required: boolean): { secretString?: string; secretBinary?: string } | undefined {
    const secretString = str(input, 'SecretString');
    const secretBinary = str(input, 'SecretBinary');
    if (secretString !== undefined && secretBinary !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary, but not both.',
      );
    }
    if (secretString === undefined && secretBinary === undefined) {
      if (required) {
        throw new AwsError(
          'InvalidRequestException',
          'You must provide either SecretString or SecretBinary.',
        );
      }
      return undefined;
    }
    const bytes =
      secretString !== undefined
        ? Buffer.byteLength(secretString, 'utf8')
        : Buffer.from(secretBinary!, 'base64').length;
    if (bytes < 1 || bytes > secretsManagerQuotas.secretStringBytes) {
      const field = secretString !== undefined ? 'secretString' : 'secretBinary';
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to 65536`,
      );
    }
    return secretString !== undefined ? { secretString } : { secretBinary: secretBinary! };
  }

  #addVersion(
    secret: Secret,
    id: string,
    value: { secretString?: string; secretBinary?: string },
    stages: string[],
  ): Version {
    const version: Version = { id, stages: new Set(), createdAt: this.now(), ...value };
    this.#checkLabelQuota(secret, version, stages);
    secret.versions.set(id, version);
    this.#attach(secret, version, stages);
    secret.lastChangedAt = this.now();
    // unlabelled versions beyond the quota are removed, the oldest first
    for (const [vid, v] of secret.versions) {
      if (secret.versions.size <= secretsManagerQuotas.versionsPerSecret) break;
      if (v.stages.size === 0) secret.versions.delete(vid);
    }
    return version;
  }

  #checkLabelQuota(secret: Secret, target: Version, stages: readonly string[]): void {
    const labels = new Set<string>();
    for (const v of secret.versions.values()) for (const s of v.stages) labels.add(s);
    for (const s of target.stages) labels.add(s);
    for (const s of stages) labels.add(s);
    if (
      stages.includes('AWSCURRENT') &&
      [...secret.versions.values()].some((v) => v.stages.has('AWSCURRENT') && v !== target)
    ) {
      labels.add('AWSPREVIOUS');
    }
    if (labels.size > secretsManagerQuotas.stagingLabelsPerSecret) {
      throw new AwsError(
        'LimitExceededException',
        `A secret can have at most ${secretsManagerQuotas.stagingLabelsPerSecret} staging labels across all of its versions.`,
      );
    }
  }

  /** Attaches labels to `target`, moving each from the version that had it (AWSPREVIOUS follows AWSCURRENT). */
  #attach(secret: Secret, target: Version, stages: readonly string[]): void {
    this.#checkLabelQuota(secret, target, stages);
    for (const stage of stages) {
      for (const v of secret.versions.values()) {
        if (v !== target && v.stages.has(stage)) {
          v.stages.delete(stage);
          if (stage === 'AWSCURRENT') {
            for (const w of secret.versions.values()) w.stages.delete('AWSPREVIOUS');
            v.stages.add('AWSPREVIOUS');
          }
        }
      }
      target.stages.add(stage);
    }
    if (target.stages.has('AWSCURRENT')) target.stages.delete('AWSPREVIOUS');
  }
}

function sameValue(version: Version, value: { secretString?: string; secretBinary?: string }): boolean {
  return version.secretString === value.secretString && version.secretBinary === value.secretBinary;
}

function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

function tagsOf(secret: Secret): { Key: string; Value: string }[] {
  return [...secret.tags].map(([Key, Value]) => ({ Key, Value }));
}

function stagesMap(secret: Secret): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const v of secret.versions.values()) if (v.stages.size > 0) map[v.id] = [...v.stages];
  return map;
}

interface Filter {
  key: string;
  values: string[];
}

const filterKeys = new Set([
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
]);

function parseFilters(raw: unknown): Filter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new AwsError('SerializationException', 'Filters must be a list');
  if (raw.length > 10) {
    throw new AwsError(
      'ValidationException',
      "Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10",
    );
  }
  return raw.map((f: unknown) => {
    const filter = (f ?? {}) as Json;
    const key = str(filter, 'Key', true);
    if (!filterKeys.has(key)) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value, primary-region, owning-service]",
      );
    }
    const values = stringList(filter, 'Values') ?? [];
    if (values.length < 1 || values.length > 10) {
      throw new AwsError(
        'ValidationException',
        "Value at 'filters.values' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    return { key, values };
  });
}

/** One filter: a match of any of its values (prefix matches; `!` negates; description and all ignore case). */
function matchesFilter(secret: Secret, filter: Filter): boolean {
  const positives = filter.values.filter((v) => !v.startsWith('!'));
  const negatives = filter.values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  const fields = (): { text: string; caseless: boolean }[] => {
    switch (filter.key) {
      case 'name':
        return [{ text: secret.name, caseless: false }];
      case 'description':
        return [{ text: secret.description ?? '', caseless: true }];
      case 'tag-key':
        return [...secret.tags.keys()].map((text) => ({ text, caseless: false }));
      case 'tag-value':
        return [...secret.tags.values()].map((text) => ({ text, caseless: false }));
      case 'primary-region':
      case 'owning-service':
        return [];
      default:
        return [secret.name, secret.description ?? '', ...secret.tags.keys(), ...secret.tags.values()]
          .flatMap((s) => s.split(/[\s/_+=.@-]+/))
          .map((text) => ({ text, caseless: true }));
    }
  };
  const hit = (value: string) =>
    fields().some(({ text, caseless }) =>
      caseless ? text.toLowerCase().startsWith(value.toLowerCase()) : text.startsWith(value),
    );
  if (negatives.some(hit)) return false;
  return positives.length === 0 || positives.some(hit);
}
