import { createHash, randomBytes } from 'node:crypto';
import {
  AwsError,
  checkLength,
  constraintError,
  type Json,
  nullMemberError,
  paginate,
  readBoolean,
  readIntegerIn,
  readObjectList,
  readString,
  readStringList,
} from '@coffer/aws-store-kit/double';

/**
 * The state and operations of a Parameter Store double, after the Systems Manager API reference
 * and the Parameter Store user guide (names, tiers, versions, labels, tags, quotas): requests and
 * answers as the JSON the wire carries, errors as AwsError.
 */

/** Documented maxima of Parameter Store (per account and region where they count parameters). */
export const parameterStoreQuotas = Object.freeze({
  /** Value size of a standard parameter: 4 KB. */
  standardValueBytes: 4096,
  /** Value size of an advanced parameter: 8 KB. */
  advancedValueBytes: 8192,
  standardParameters: 10_000,
  advancedParameters: 100_000,
  /** Versions of one parameter kept; the oldest goes when a new one comes, unless it is labelled. */
  versionsPerParameter: 100,
  tagsPerResource: 50,
  labelsPerVersion: 10,
  hierarchyLevels: 15,
  /** A name with the ARN around it (`arn:aws:ssm:<region>:<account>:parameter/...`). */
  arnLength: 1011,
  descriptionLength: 1024,
  /** Names in one GetParameters or DeleteParameters request. */
  namesPerRequest: 10,
  byPathMaxResults: 10,
  describeMaxResults: 50,
  historyMaxResults: 50,
});

/** The tiers a parameter can have, and what a request may ask for. */
type StoredTier = 'Standard' | 'Advanced';
const tiers = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;
const types = ['String', 'StringList', 'SecureString'] as const;
type ParameterType = (typeof types)[number];
const dataTypes = ['text', 'aws:ec2:image', 'aws:ssm:integration'] as const;
const taggableTypes = [
  'Document',
  'ManagedInstance',
  'MaintenanceWindow',
  'Parameter',
  'PatchBaseline',
  'OpsItem',
  'OpsMetadata',
  'Automation',
  'Association',
] as const;

/** The AWS managed key of Parameter Store: what a SecureString without a KeyId is encrypted with. */
export const awsManagedSsmKey = 'alias/aws/ssm';

/** A customer managed KMS key the double knows, by every name a request may use for it. */
export interface DoubleKmsKey {
  keyId: string;
  alias: string;
}

/** The customer managed key every Parameter Store double holds besides `alias/aws/ssm`. */
export const doubleKmsKey: DoubleKmsKey = Object.freeze({
  keyId: '0b5d7e2a-1c3f-4a6b-8d9e-0f1a2b3c4d5e',
  alias: 'alias/coffer-double',
});

interface Version {
  version: number;
  value: string;
  type: ParameterType;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  dataType: string;
  tier: StoredTier;
  policies?: string;
  labels: Set<string>;
  modifiedAt: number;
}

interface Parameter {
  name: string;
  tier: StoredTier;
  /** In version order. */
  versions: Map<number, Version>;
  latest: number;
  tags: Map<string, string>;
}

const secondsOf = (ms: number) => ms / 1000;
const nameChars = /^[a-zA-Z0-9_.\-/]+$/;
const keyIdPattern = /^([a-zA-Z0-9:/_-]+)$/;
const tagPattern = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const labelPattern = /^[a-zA-Z0-9_.-]+$/;
const reservedPrefix = /^\/?(aws|ssm)/i;

/** The hierarchy levels of a name: `/a/b/c` has 3, `plain` has 1. */
function levelsOf(name: string): string[] {
  return (name.startsWith('/') ? name.slice(1) : name).split('/');
}

/** The parameter's path, with a leading `/` also for a name outside any hierarchy. */
function pathOf(name: string): string {
  return name.startsWith('/') ? name : `/${name}`;
}

function invalidName(): AwsError {
  return new AwsError(
    'ValidationException',
    'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
  );
}

function readTags(input: Json, key: string): { Key: string; Value: string }[] | undefined {
  return readObjectList(input, key)?.map((tag) => {
    const k = readString(tag, 'Key', true);
    const v = readString(tag, 'Value', true);
    checkLength('Key', k, 1, 128);
    checkLength('Value', v, 0, 256);
    if (!tagPattern.test(k) || !tagPattern.test(v)) {
      throw constraintError('tags.member.key', 'Member must satisfy regular expression pattern');
    }
    if (k.toLowerCase().startsWith('aws:')) {
      throw new AwsError('ValidationException', 'Tag keys beginning with aws: are reserved for AWS use.');
    }
    return { Key: k, Value: v };
  });
}

function oneOf<T extends string>(
  key: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw constraintError(key, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value as T;
}

/** A parameter filter of GetParametersByPath or DescribeParameters. */
interface StringFilter {
  key: string;
  option: string;
  values: string[];
}

/**
 * The parameters of one account in one region. Each operation takes the request JSON and
 * answers the response JSON or throws the service's error.
 */
export class ParameterStore {
  readonly #parameters = new Map<string, Parameter>();
  readonly #limits: { standardParameters: number; advancedParameters: number };

  constructor(
    readonly region: string,
    readonly accountId: string,
    options: { standardParameters?: number; advancedParameters?: number } = {},
    readonly now: () => number = Date.now,
  ) {
    this.#limits = {
      standardParameters: options.standardParameters ?? parameterStoreQuotas.standardParameters,
      advancedParameters: options.advancedParameters ?? parameterStoreQuotas.advancedParameters,
    };
  }

  /** Names of the parameters held. */
  names(): string[] {
    return [...this.#parameters.keys()].sort();
  }

  /** Deletes a parameter with all its versions, as someone with console access could. */
  removeParameter(name: string): boolean {
    return this.#parameters.delete(name);
  }

  /** Replaces a parameter's tags behind the client's back. */
  setTags(name: string, tags: Record<string, string>): boolean {
    const parameter = this.#parameters.get(name);
    if (parameter === undefined) return false;
    parameter.tags = new Map(Object.entries(tags));
    return true;
  }

  /** Runs one operation by its `X-Amz-Target` name. */
  handle(operation: string, input: Json): Json {
    switch (operation) {
      case 'PutParameter':
        return this.putParameter(input);
      case 'GetParameter':
        return this.getParameter(input);
      case 'GetParameters':
        return this.getParameters(input);
      case 'GetParametersByPath':
        return this.getParametersByPath(input);
      case 'GetParameterHistory':
        return this.getParameterHistory(input);
      case 'DescribeParameters':
        return this.describeParameters(input);
      case 'DeleteParameter':
        return this.deleteParameter(input);
      case 'DeleteParameters':
        return this.deleteParameters(input);
      case 'LabelParameterVersion':
        return this.labelParameterVersion(input);
      case 'AddTagsToResource':
        return this.addTagsToResource(input);
      case 'RemoveTagsFromResource':
        return this.removeTagsFromResource(input);
      case 'ListTagsForResource':
        return this.listTagsForResource(input);
      default:
        throw new AwsError('UnknownOperationException', '');
    }
  }

  putParameter(input: Json): Json {
    const name = readString(input, 'Name', true);
    this.#checkNewName(name);
    const value = readString(input, 'Value', true);
    if (value.length === 0) {
      throw constraintError('Value', 'Member must have length greater than or equal to 1');
    }
    const requestedType = oneOf('Type', readString(input, 'Type'), types);
    const overwrite = readBoolean(input, 'Overwrite') ?? false;
    const tags = readTags(input, 'Tags');
    const requestedTier = oneOf('Tier', readString(input, 'Tier'), tiers);
    const description = readString(input, 'Description');
    checkLength('Description', description, 0, parameterStoreQuotas.descriptionLength);
    const allowedPattern = readString(input, 'AllowedPattern');
    checkLength('AllowedPattern', allowedPattern, 0, 1024);
    const dataType = oneOf('DataType', readString(input, 'DataType'), dataTypes);
    const policies = readString(input, 'Policies');
    checkLength('Policies', policies, 1, 4096);
    const keyIdGiven = readString(input, 'KeyId');
    checkLength('KeyId', keyIdGiven, 1, 256);
    if (keyIdGiven !== undefined && !keyIdPattern.test(keyIdGiven)) {
      throw constraintError('KeyId', 'Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$');
    }

    if (tags !== undefined && overwrite) {
      throw new AwsError(
        'ValidationException',
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    }
    const existing = this.#parameters.get(name);
    if (existing !== undefined && !overwrite) {
      throw new AwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const previous = existing?.versions.get(existing.latest);
    const type = requestedType ?? previous?.type;
    if (type === undefined) {
      throw new AwsError('ValidationException', 'A parameter type is required when you create a parameter.');
    }
    if (keyIdGiven !== undefined && type !== 'SecureString') {
      throw new AwsError('ValidationException', 'KeyId is required for SecureString type parameter only.');
    }
    const keyId = type === 'SecureString' ? this.#resolveKey(keyIdGiven ?? awsManagedSsmKey) : undefined;
    if (type === 'StringList' && value.split(',').some((item) => item === '')) {
      throw new AwsError(
        'ValidationException',
        'StringList values must be separated by commas, without empty items.',
      );
    }
    if (allowedPattern !== undefined) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(allowedPattern);
      } catch {
        throw new AwsError(
          'InvalidAllowedPatternException',
          'The request does not meet the regular expression requirement.',
        );
      }
      if (!pattern.test(value)) {
        throw new AwsError(
          'ParameterPatternMismatchException',
          `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`,
        );
      }
    }
    if (tags !== undefined && new Set(tags.map((t) => t.Key)).size > parameterStoreQuotas.tagsPerResource) {
      throw new AwsError('ValidationException', 'A parameter can have at most 50 tags.');
    }

    const tier = this.#tierFor(name, existing, requestedTier, value, policies);
    if (existing !== undefined && existing.versions.size >= parameterStoreQuotas.versionsPerParameter) {
      const oldest = existing.versions.values().next().value as Version;
      if (oldest.labels.size > 0) {
        throw new AwsError(
          'ParameterMaxVersionLimitExceeded',
          `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
        );
      }
    }

    const parameter: Parameter = existing ?? {
      name,
      tier,
      versions: new Map(),
      latest: 0,
      tags: new Map((tags ?? []).map((t) => [t.Key, t.Value])),
    };
    parameter.tier = tier;
    parameter.latest++;
    parameter.versions.set(parameter.latest, {
      version: parameter.latest,
      value,
      type,
      dataType: dataType ?? previous?.dataType ?? 'text',
      tier,
      labels: new Set(),
      modifiedAt: this.now(),
      ...(keyId === undefined ? {} : { keyId }),
      ...(description === undefined ? {} : { description }),
      ...(allowedPattern === undefined ? {} : { allowedPattern }),
      ...(policies === undefined ? {} : { policies }),
    });
    if (parameter.versions.size > parameterStoreQuotas.versionsPerParameter) {
      parameter.versions.delete(parameter.versions.keys().next().value as number);
    }
    this.#parameters.set(name, parameter);
    return { Version: parameter.latest, Tier: tier };
  }

  getParameter(input: Json): Json {
    const name = readString(input, 'Name', true);
    checkLength('Name', name, 1, 2048);
    const decrypt = readBoolean(input, 'WithDecryption') ?? false;
    const { parameter, version, selector } = this.#select(name);
    return { Parameter: this.#answer(parameter, version, decrypt, selector) };
  }

  getParameters(input: Json): Json {
    const names = this.#nameList(input);
    const decrypt = readBoolean(input, 'WithDecryption') ?? false;
    const found: Json[] = [];
    const invalid: string[] = [];
    for (const name of names) {
      try {
        const { parameter, version, selector } = this.#select(name);
        found.push(this.#answer(parameter, version, decrypt, selector));
      } catch (err) {
        if (!(err instanceof AwsError) || !err.type.startsWith('Parameter')) throw err;
        invalid.push(name);
      }
    }
    return { Parameters: found, InvalidParameters: invalid };
  }

  getParametersByPath(input: Json): Json {
    const path = readString(input, 'Path', true);
    checkLength('Path', path, 1, 2048);
    if (!path.startsWith('/') || !nameChars.test(path) || path.includes('//')) {
      throw new AwsError(
        'ValidationException',
        'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.',
      );
    }
    const recursive = readBoolean(input, 'Recursive') ?? false;
    const decrypt = readBoolean(input, 'WithDecryption') ?? false;
    const maxResults = readIntegerIn(input, 'MaxResults', 1, parameterStoreQuotas.byPathMaxResults, 10);
    const filters = readFilters(input, ['Type', 'KeyId', 'Label'], false);
    const base = path === '/' ? '/' : `${path.replace(/\/$/, '')}/`;
    const matching = [...this.#parameters.values()]
      .filter((p) => {
        const full = pathOf(p.name);
        if (!full.startsWith(base)) return false;
        return recursive || !full.slice(base.length).includes('/');
      })
      .filter((p) => filters.every((f) => this.#matches(p, f)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const { page, next } = paginate(matching, (p) => p.name, readString(input, 'NextToken'), maxResults, {
      invalidTokenType: 'InvalidNextToken',
    });
    return {
      Parameters: page.map((p) => this.#answer(p, p.versions.get(p.latest)!, decrypt, undefined)),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  getParameterHistory(input: Json): Json {
    const parameter = this.#existing(readString(input, 'Name', true));
    const decrypt = readBoolean(input, 'WithDecryption') ?? false;
    const maxResults = readIntegerIn(input, 'MaxResults', 1, parameterStoreQuotas.historyMaxResults, 50);
    const versions = [...parameter.versions.values()];
    const { page, next } = paginate(versions, (v) => v.version, readString(input, 'NextToken'), maxResults, {
      invalidTokenType: 'InvalidNextToken',
    });
    return {
      Parameters: page.map((v) => ({
        Name: parameter.name,
        Type: v.type,
        ...(v.keyId === undefined ? {} : { KeyId: v.keyId }),
        LastModifiedDate: secondsOf(v.modifiedAt),
        LastModifiedUser: `arn:aws:iam::${this.accountId}:user/coffer-double`,
        ...(v.description === undefined ? {} : { Description: v.description }),
        Value: this.#valueFor(parameter, v, decrypt),
        ...(v.allowedPattern === undefined ? {} : { AllowedPattern: v.allowedPattern }),
        Version: v.version,
        Labels: [...v.labels],
        Tier: v.tier,
        Policies: [],
        DataType: v.dataType,
      })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  describeParameters(input: Json): Json {
    if (input.Filters !== undefined && input.ParameterFilters !== undefined) {
      throw new AwsError(
        'InvalidFilterKey',
        'You can use either Filters or ParameterFilters in a single request.',
      );
    }
    const maxResults = readIntegerIn(input, 'MaxResults', 1, parameterStoreQuotas.describeMaxResults, 50);
    const filters = readFilters(input, ['Name', 'Path', 'Type', 'KeyId', 'Tier', 'DataType', 'Label'], true);
    const matching = [...this.#parameters.values()]
      .filter((p) => filters.every((f) => this.#matches(p, f)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const { page, next } = paginate(matching, (p) => p.name, readString(input, 'NextToken'), maxResults, {
      invalidTokenType: 'InvalidNextToken',
    });
    return {
      Parameters: page.map((p) => {
        const v = p.versions.get(p.latest)!;
        return {
          Name: p.name,
          ARN: this.#arnOf(p.name),
          Type: v.type,
          ...(v.keyId === undefined ? {} : { KeyId: v.keyId }),
          LastModifiedDate: secondsOf(v.modifiedAt),
          LastModifiedUser: `arn:aws:iam::${this.accountId}:user/coffer-double`,
          ...(v.description === undefined ? {} : { Description: v.description }),
          Version: v.version,
          Tier: p.tier,
          Policies: [],
          DataType: v.dataType,
        };
      }),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  deleteParameter(input: Json): Json {
    const parameter = this.#existing(readString(input, 'Name', true));
    this.#parameters.delete(parameter.name);
    return {};
  }

  deleteParameters(input: Json): Json {
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const name of this.#nameList(input)) {
      if (this.#parameters.delete(name)) deleted.push(name);
      else invalid.push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  }

  labelParameterVersion(input: Json): Json {
    const parameter = this.#existing(readString(input, 'Name', true));
    const requested = input.ParameterVersion;
    if (requested !== undefined && (typeof requested !== 'number' || !Number.isInteger(requested))) {
      throw new AwsError('SerializationException', 'ParameterVersion must be an integer');
    }
    const number = (requested as number | undefined) ?? parameter.latest;
    const version = parameter.versions.get(number);
    if (version === undefined) {
      throw new AwsError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${number} of ${parameter.name}. Verify the version and try again.`,
      );
    }
    const labels = readStringList(input, 'Labels') ?? [];
    if (labels.length < 1 || labels.length > parameterStoreQuotas.labelsPerVersion) {
      throw constraintError('Labels', 'Member must have length between 1 and 10');
    }
    const invalid = labels.filter(
      (l) => l.length > 100 || !labelPattern.test(l) || /^[0-9]/.test(l) || /^(aws|ssm)/i.test(l),
    );
    const valid = labels.filter((l) => !invalid.includes(l));
    if (new Set([...version.labels, ...valid]).size > parameterStoreQuotas.labelsPerVersion) {
      throw new AwsError(
        'ParameterVersionLabelLimitExceeded',
        'A parameter version can have a maximum of ten labels. Move one or more labels to another version and try again.',
      );
    }
    for (const label of valid) {
      for (const other of parameter.versions.values()) other.labels.delete(label);
      version.labels.add(label);
    }
    return { InvalidLabels: invalid, ParameterVersion: number };
  }

  addTagsToResource(input: Json): Json {
    const parameter = this.#taggable(input);
    const tags = readTags(input, 'Tags');
    if (tags === undefined) throw nullMemberError('Tags');
    const merged = new Map(parameter.tags);
    for (const t of tags) merged.set(t.Key, t.Value);
    if (merged.size > parameterStoreQuotas.tagsPerResource) {
      throw new AwsError('TooManyTagsError', 'The Targets parameter includes too many tags.');
    }
    parameter.tags = merged;
    return {};
  }

  removeTagsFromResource(input: Json): Json {
    const parameter = this.#taggable(input);
    const keys = readStringList(input, 'TagKeys');
    if (keys === undefined) throw nullMemberError('TagKeys');
    for (const key of keys) parameter.tags.delete(key);
    return {};
  }

  listTagsForResource(input: Json): Json {
    const parameter = this.#taggable(input);
    return { TagList: [...parameter.tags].map(([Key, Value]) => ({ Key, Value })) };
  }

  /** The parameter a tagging call names (`ResourceType: Parameter`, `ResourceId: <name>`). */
  #taggable(input: Json): Parameter {
    const type = oneOf('ResourceType', readString(input, 'ResourceType', true), taggableTypes);
    const id = readString(input, 'ResourceId', true);
    const parameter = type === 'Parameter' ? this.#parameters.get(id) : undefined;
    if (parameter === undefined) {
      throw new AwsError('InvalidResourceId', 'The resource ID is not valid. Verify the ID and try again.');
    }
    return parameter;
  }

  #existing(name: string): Parameter {
    checkLength('Name', name, 1, 2048);
    const parameter = this.#parameters.get(name);
    if (parameter === undefined) throw new AwsError('ParameterNotFound', '');
    return parameter;
  }

  #nameList(input: Json): string[] {
    const names = readStringList(input, 'Names');
    if (names === undefined) throw nullMemberError('Names');
    if (names.length < 1 || names.length > parameterStoreQuotas.namesPerRequest) {
      throw constraintError('Names', 'Member must have length between 1 and 10');
    }
    return names;
  }

  /** A name with an optional `:version` or `:label` selector, resolved to a version. */
  #select(nameWithSelector: string): {
    parameter: Parameter;
    version: Version;
    selector: string | undefined;
  } {
    const at = nameWithSelector.indexOf(':');
    const name = at === -1 ? nameWithSelector : nameWithSelector.slice(0, at);
    const selector = at === -1 ? undefined : nameWithSelector.slice(at + 1);
    const parameter = this.#existing(name);
    if (selector === undefined) {
      return { parameter, version: parameter.versions.get(parameter.latest)!, selector };
    }
    const version = /^[0-9]+$/.test(selector)
      ? parameter.versions.get(Number(selector))
      : [...parameter.versions.values()].find((v) => v.labels.has(selector));
    if (version === undefined) {
      throw new AwsError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
      );
    }
    return { parameter, version, selector: `:${selector}` };
  }

  #answer(parameter: Parameter, version: Version, decrypt: boolean, selector: string | undefined): Json {
    return {
      Name: parameter.name,
      Type: version.type,
      Value: this.#valueFor(parameter, version, decrypt),
      Version: version.version,
      ...(selector === undefined ? {} : { Selector: selector }),
      LastModifiedDate: secondsOf(version.modifiedAt),
      ARN: this.#arnOf(parameter.name),
      DataType: version.dataType,
    };
  }

  /** A SecureString read without decryption shows its ciphertext, never the value. */
  #valueFor(parameter: Parameter, version: Version, decrypt: boolean): string {
    if (version.type !== 'SecureString' || decrypt) return version.value;
    const digest = createHash('sha256')
      .update(`${parameter.name}\0${version.version}\0${version.value}`)
      .digest();
    return Buffer.concat([Buffer.from([1, 2, 2, 0]), digest, randomBytes(16)]).toString('base64');
  }

  #arnOf(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.accountId}:parameter${pathOf(name)}`;
  }

  #checkNewName(name: string): void {
    checkLength('Name', name, 1, 2048);
    if (!nameChars.test(name) || reservedPrefix.test(name)) throw invalidName();
    if (name.includes('/') && !name.startsWith('/')) {
      throw new AwsError('ValidationException', 'Parameter name must be a fully qualified name.');
    }
    const levels = levelsOf(name);
    if (levels.some((level) => level === '')) throw invalidName();
    if (levels.length > parameterStoreQuotas.hierarchyLevels) {
      throw new AwsError(
        'HierarchyLevelLimitExceededException',
        'A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide.',
      );
    }
    if (this.#arnOf(name).length > parameterStoreQuotas.arnLength) {
      throw new AwsError(
        'ValidationException',
        `Parameter name: the full parameter ARN can be at most ${parameterStoreQuotas.arnLength} characters.`,
      );
    }
  }

  /** The key a SecureString is encrypted with; an unknown one is InvalidKeyId, as KMS finds no such key. */
  #resolveKey(keyId: string): string {
    const arnPrefix = `arn:aws:kms:${this.region}:${this.accountId}:`;
    const known = [
      awsManagedSsmKey,
      doubleKmsKey.alias,
      doubleKmsKey.keyId,
      `${arnPrefix}key/${doubleKmsKey.keyId}`,
      `${arnPrefix}${doubleKmsKey.alias}`,
      `${arnPrefix}${awsManagedSsmKey}`,
    ];
    if (!known.includes(keyId)) throw new AwsError('InvalidKeyId', '');
    return keyId;
  }

  /** The tier the new version puts the parameter in, checking value size and parameter counts. */
  #tierFor(
    name: string,
    existing: Parameter | undefined,
    requested: (typeof tiers)[number] | undefined,
    value: string,
    policies: string | undefined,
  ): StoredTier {
    const bytes = Buffer.byteLength(value, 'utf8');
    const counts = this.#tierCounts(name);
    const standardFull = counts.standard >= this.#limits.standardParameters;
    let tier: StoredTier;
    if (requested === 'Intelligent-Tiering') {
      tier =
        existing?.tier === 'Advanced' ||
        bytes > parameterStoreQuotas.standardValueBytes ||
        policies !== undefined ||
        standardFull
          ? 'Advanced'
          : 'Standard';
    } else {
      // a parameter keeps its tier when a write names none (the account's default tier is Standard)
      tier = requested ?? existing?.tier ?? 'Standard';
    }
    if (existing?.tier === 'Advanced' && tier === 'Standard') {
      throw new AwsError(
        'ValidationException',
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
      );
    }
    if (tier === 'Standard' && bytes > parameterStoreQuotas.standardValueBytes) {
      throw new AwsError(
        'ValidationException',
        'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
      );
    }
    if (bytes > parameterStoreQuotas.advancedValueBytes) {
      throw constraintError('Value', 'Member must have length less than or equal to 8192');
    }
    if (tier === 'Standard' && policies !== undefined) {
      throw new AwsError(
        'ValidationException',
        'Parameter policies are supported only for advanced parameters.',
      );
    }
    if (existing?.tier !== tier) {
      if (tier === 'Standard' && standardFull) {
        throw new AwsError(
          'ParameterLimitExceeded',
          'You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again.',
        );
      }
      if (tier === 'Advanced' && counts.advanced >= this.#limits.advancedParameters) {
        throw new AwsError(
          'ParameterLimitExceeded',
          'You have exceeded the number of advanced parameters for this AWS account. Delete one or more parameters and try again.',
        );
      }
    }
    return tier;
  }

  /** Standard and advanced parameters held, leaving out `except` (the one being written). */
  #tierCounts(except: string): { standard: number; advanced: number } {
    let standard = 0;
    let advanced = 0;
    for (const p of this.#parameters.values()) {
      if (p.name === except) continue;
      if (p.tier === 'Standard') standard++;
      else advanced++;
    }
    return { standard, advanced };
  }

  #matches(parameter: Parameter, filter: StringFilter): boolean {
    const latest = parameter.versions.get(parameter.latest)!;
    const { key, option, values } = filter;
    if (key.startsWith('tag:')) {
      const tag = parameter.tags.get(key.slice(4));
      if (tag === undefined) return false;
      if (values.length === 0) return true;
      return values.some((v) => (option === 'BeginsWith' ? tag.startsWith(v) : tag === v));
    }
    const fields: Record<string, string[]> = {
      Name: [parameter.name],
      Type: [latest.type],
      KeyId: latest.keyId === undefined ? [] : [latest.keyId],
      Tier: [parameter.tier],
      DataType: [latest.dataType],
      Label: [...parameter.versions.values()].flatMap((v) => [...v.labels]),
    };
    if (key === 'Path') {
      const full = pathOf(parameter.name);
      return values.some((v) => {
        const base = v === '/' ? '/' : `${v.replace(/\/$/, '')}/`;
        if (!full.startsWith(base)) return false;
        return option === 'Recursive' || !full.slice(base.length).includes('/');
      });
    }
    const have = fields[key] ?? [];
    return values.some((v) =>
      have.some((h) =>
        option === 'BeginsWith' ? h.startsWith(v) : option === 'Contains' ? h.includes(v) : h === v,
      ),
    );
  }
}

const filterOptions: Record<string, readonly string[]> = {
  Name: ['Equals', 'BeginsWith', 'Contains'],
  Path: ['Recursive', 'OneLevel'],
  Type: ['Equals'],
  KeyId: ['Equals'],
  Tier: ['Equals'],
  DataType: ['Equals'],
  Label: ['Equals'],
};

/** `ParameterFilters`, checked against the keys and options the operation supports. */
function readFilters(input: Json, keys: readonly string[], tags: boolean): StringFilter[] {
  const raw = readObjectList(input, 'ParameterFilters') ?? [];
  return raw.map((filter) => {
    const key = readString(filter, 'Key', true);
    checkLength('Key', key, 1, 132);
    const isTag = key.startsWith('tag:') && key.length > 4;
    if (isTag ? !tags : !keys.includes(key)) {
      throw new AwsError(
        'InvalidFilterKey',
        `The following filter key is not valid: ${key}. Valid filter keys include: [${keys.join(', ')}${tags ? ', tag:' : ''}].`,
      );
    }
    const allowed = isTag ? ['Equals', 'BeginsWith'] : filterOptions[key]!;
    const option = readString(filter, 'Option') ?? (key === 'Path' ? 'OneLevel' : 'Equals');
    if (!allowed.includes(option)) {
      throw new AwsError(
        'InvalidFilterOption',
        `The following filter option is not valid: ${option}. Valid options include: [${allowed.join(', ')}].`,
      );
    }
    const values = readStringList(filter, 'Values') ?? [];
    if (values.length > 50 || (!isTag && values.length === 0)) {
      throw new AwsError('InvalidFilterValue', `The filter ${key} needs between 1 and 50 values.`);
    }
    return { key, option, values };
  });
}
