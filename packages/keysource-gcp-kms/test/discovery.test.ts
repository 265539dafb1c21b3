import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { silentLogger } from '@coffer/core';
import {
  type CloudKmsClientLike,
  createCloudKmsClient,
  GcpKmsKeySource,
  gcpKmsConfigSchema,
} from '@coffer/keysource-gcp-kms';
import { doubleRoutes, type RecordedAnswer } from '@coffer/keysource-gcp-kms/double';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsDouble } from './support.js';

// Google Cloud has no independent client in Debian, so the double is checked against Google's
// discovery document for cloudkms v1 (the part the double serves, kept in test/discovery/): every
// route it serves exists there with the same HTTP method and path template, and every answer the
// key source and the official SDK got carries only fields the response schema defines, with
// their types; errors have google.rpc.Status's shape.

interface Schema {
  type?: string;
  format?: string;
  enum?: string[];
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
}
interface Method {
  id: string;
  httpMethod: string;
  flatPath: string;
  response?: { $ref: string };
}
interface Resource {
  methods?: Record<string, Method>;
  resources?: Record<string, Resource>;
}
const discovery = JSON.parse(
  readFileSync(new URL('./discovery/cloudkms-v1.json', import.meta.url), 'utf8'),
) as { resources: Record<string, Resource>; schemas: Record<string, Schema> };

function allMethods(
  resources: Record<string, Resource>,
  out = new Map<string, Method>(),
): Map<string, Method> {
  for (const resource of Object.values(resources)) {
    for (const method of Object.values(resource.methods ?? {})) out.set(method.id, method);
    allMethods(resource.resources ?? {}, out);
  }
  return out;
}
const methods = allMethods(discovery.resources);

// google-gax asks for `$alt=json;enum-encoding=int`: enums then come as their proto numbers,
// taken here from the SDK's own protos (a Google artifact, not ours).
type ProtoEnum = { values: Record<string, number> };
const protos = createRequire(import.meta.url)('@google-cloud/kms/build/protos/protos.json') as {
  nested: Record<string, { nested?: Record<string, unknown> }>;
};
const protoEnums: ProtoEnum[] = [];
(function collect(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as { values?: unknown; nested?: Record<string, unknown> };
  if (typeof n.values === 'object' && n.values !== null) protoEnums.push(n as ProtoEnum);
  for (const child of Object.values(n.nested ?? {})) collect(child);
})(protos.nested.google?.nested?.cloud);

function numberAllowed(names: string[], value: number): boolean {
  const key = [...names].sort().join(',');
  const found = protoEnums.find((e) => Object.keys(e.values).sort().join(',') === key);
  return found !== undefined && Object.values(found.values).includes(value);
}

/** Problems of `value` against `schema`, each with its JSON path. */
function check(value: unknown, schema: Schema, path: string, problems: string[]): void {
  if (schema.$ref !== undefined) {
    const target = discovery.schemas[schema.$ref];
    if (target === undefined) problems.push(`${path}: unknown schema ${schema.$ref}`);
    else check(value, target, path, problems);
    return;
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${path}: expected an object`);
        return;
      }
      for (const [key, v] of Object.entries(value)) {
        const field = schema.properties?.[key] ?? schema.additionalProperties;
        if (field === undefined) problems.push(`${path}.${key}: not in the schema`);
        else check(v, field, `${path}.${key}`, problems);
      }
      return;
    }
    case 'array':
      if (!Array.isArray(value)) problems.push(`${path}: expected an array`);
      else for (const [i, v] of value.entries()) check(v, schema.items ?? {}, `${path}[${i}]`, problems);
      return;
    case 'string':
      if (schema.enum !== undefined) {
        const ok =
          (typeof value === 'string' && schema.enum.includes(value)) ||
          (typeof value === 'number' && numberAllowed(schema.enum, value));
        if (!ok) problems.push(`${path}: ${String(value)} is not one of ${schema.enum.join(', ')}`);
        return;
      }
      if (typeof value !== 'string') problems.push(`${path}: expected a string`);
      else if (schema.format === 'int64' && !/^-?[0-9]+$/.test(value)) problems.push(`${path}: not an int64`);
      else if (schema.format === 'byte' && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value))
        problems.push(`${path}: not base64`);
      else if (schema.format === 'google-datetime' && Number.isNaN(Date.parse(value)))
        problems.push(`${path}: not a timestamp`);
      else if (schema.format === 'google-duration' && !/^-?[0-9]+(\.[0-9]{1,9})?s$/.test(value))
        problems.push(`${path}: not a duration`);
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        problems.push(`${path}: expected an integer`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean`);
      return;
    default:
      problems.push(`${path}: schema without a type`);
  }
}

function checkError(body: unknown, status: number, problems: string[]): void {
  const error = (body as { error?: Record<string, unknown> }).error;
  if (error === undefined || Object.keys(body as object).length !== 1) {
    problems.push('error answer is not {"error": ...}');
    return;
  }
  for (const key of Object.keys(error)) {
    if (!['code', 'message', 'status', 'details'].includes(key))
      problems.push(`error.${key}: not in google.rpc.Status`);
  }
  if (error.code !== status)
    problems.push(`error.code ${String(error.code)} is not the HTTP status ${status}`);
  if (typeof error.status !== 'string' || !/^[A-Z_]+$/.test(error.status))
    problems.push('error.status missing');
}

describe('the Cloud KMS double against the cloudkms v1 discovery document', () => {
  it('serves only documented methods, with their HTTP method and path template', () => {
    expect(doubleRoutes.length).toBe(12);
    for (const route of doubleRoutes) {
      const method = methods.get(route.methodId);
      expect(method, route.methodId).toBeDefined();
      expect(method!.httpMethod, route.methodId).toBe(route.httpMethod);
      expect(method!.flatPath, route.methodId).toBe(route.flatPath);
    }
  });

  let kms: Awaited<ReturnType<typeof kmsDouble>>;
  let answers: readonly RecordedAnswer[] = [];
  beforeAll(async () => {
    kms = await kmsDouble({ recordAnswers: true });
    const config = gcpKmsConfigSchema.parse({ ...kms.settings, maxAttempts: 1 });
    const source = new GcpKmsKeySource(
      createCloudKmsClient(config) as unknown as CloudKmsClientLike,
      config,
      {
        logger: silentLogger(),
        clock: () => new Date(),
      },
    );
    const context = { 'coffer-secret': 's-1', 'coffer-version': '1' };
    // through the key source: encrypt, decrypt (right and wrong context), rotate
    const current = await source.current();
    const { wrapped } = await source.generateDataKey(current, context);
    await source.unwrap(wrapped, context);
    await source.unwrap(wrapped, { ...context, 'coffer-version': '2' }).catch(() => {});
    const rotated = await source.rotate!();
    await source.rewrap(wrapped, context, rotated);
    await source.close?.();
    // the rest of the served methods, through the SDK directly
    const url = new URL(kms.url);
    const client = new KeyManagementServiceClient({
      fallback: 'rest',
      apiEndpoint: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      projectId: 'coffer-double',
    });
    const location = 'projects/coffer-double/locations/global';
    const [ring] = await client.createKeyRing({ parent: location, keyRingId: 'other', keyRing: {} });
    await client.getKeyRing({ name: ring.name! });
    await client.createKeyRing({ parent: location, keyRingId: 'other', keyRing: {} }).catch(() => {});
    const [key] = await client.createCryptoKey({
      parent: ring.name!,
      cryptoKeyId: 'k',
      cryptoKey: {
        purpose: 'ENCRYPT_DECRYPT',
        labels: { team: 'a' },
        rotationPeriod: { seconds: 7_776_000 },
      },
    });
    await client.getCryptoKey({ name: key.name! });
    await client.getCryptoKey({ name: `${ring.name}/cryptoKeys/missing` }).catch(() => {});
    await client.listCryptoKeyVersions({ parent: kms.keyName, pageSize: 1 }, { autoPaginate: false });
    const [version] = await client.getCryptoKeyVersion({ name: `${kms.keyName}/cryptoKeyVersions/1` });
    await client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: version.name, state: 'DISABLED' },
      updateMask: { paths: ['state'] },
    });
    await client
      .updateCryptoKeyPrimaryVersion({ name: kms.keyName, cryptoKeyVersionId: '1' })
      .catch(() => {});
    await client.destroyCryptoKeyVersion({ name: version.name! });
    await client.close();
    answers = kms.faults.answers();
  });
  afterAll(async () => {
    await kms?.close();
    kms?.restoreEnv();
  });

  it('answered every request on a documented route, each served method at least once', () => {
    expect(answers.filter((a) => a.route === undefined)).toEqual([]);
    const served = new Set(answers.map((a) => a.route!.rpc));
    expect([...served].sort()).toEqual(doubleRoutes.map((r) => r.rpc).sort());
  });

  it('sends only fields the response schemas define, with their types', () => {
    const problems: string[] = [];
    for (const answer of answers) {
      const method = methods.get(answer.route!.methodId)!;
      if (answer.status !== 200) {
        checkError(answer.body, answer.status, problems);
        continue;
      }
      check(answer.body, { $ref: method.response?.$ref ?? 'Empty' }, answer.route!.rpc, problems);
    }
    expect(problems).toEqual([]);
    expect(answers.some((a) => a.status !== 200)).toBe(true);
  });
});
