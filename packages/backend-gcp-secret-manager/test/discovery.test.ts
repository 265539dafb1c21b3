import { readFileSync } from 'node:fs';
import { doubleRoutes, type RecordedAnswer } from '@coffer/backend-gcp-secret-manager/double';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

// GCP has no independent client in Debian, so the double is checked against Google's discovery
// document for secretmanager v1 (the part the double serves, kept in test/discovery/): every
// route it serves exists there with the same HTTP method and path template, and every answer
// the official SDK got carries only fields the response schema defines, with their types.

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
  readFileSync(new URL('./discovery/secretmanager-v1.json', import.meta.url), 'utf8'),
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
        // google-gax asks for `$alt=json;enum-encoding=int`: enums come as their numbers
        const ok =
          (typeof value === 'string' && schema.enum.includes(value)) ||
          (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < schema.enum.length);
        if (!ok) problems.push(`${path}: not one of ${schema.enum.join(', ')}`);
        return;
      }
      if (typeof value !== 'string') problems.push(`${path}: expected a string`);
      else if (schema.format === 'int64' && !/^-?[0-9]+$/.test(value)) problems.push(`${path}: not an int64`);
      else if (schema.format === 'byte' && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value))
        problems.push(`${path}: not base64`);
      else if (schema.format === 'google-datetime' && Number.isNaN(Date.parse(value)))
        problems.push(`${path}: not a timestamp`);
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

describe('the double against the secretmanager v1 discovery document', () => {
  it('serves only documented methods, with their HTTP method and path template', () => {
    expect(doubleRoutes.length).toBeGreaterThan(20);
    for (const route of doubleRoutes) {
      const method = methods.get(route.methodId);
      expect(method, route.methodId).toBeDefined();
      expect(method!.httpMethod, route.methodId).toBe(route.httpMethod);
      expect(method!.flatPath, route.methodId).toBe(route.flatPath);
    }
  });

  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let answers: readonly RecordedAnswer[] = [];
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, recordAnswers: true });
    const { backend, double } = made;
    const secretId = '11111111-2222-4333-8444-555555555555';
    // through the backend: create, add, alias, access, list, replace, destroy, delete
    await backend.put({ secretId, version: 1 }, { a: '1' });
    await backend.put({ secretId, version: 2 }, { a: '2' });
    await backend.put({ secretId, version: 2 }, { a: '2b' });
    await backend.get({ secretId, version: 2 });
    await backend.get({ secretId, version: 9 }).catch(() => {});
    await backend.list();
    await backend.list({ secretId });
    await backend.delete({ secretId, version: 1 });
    // the rest of the served methods, through the SDK directly
    const url = new URL(double.url);
    const client = new SecretManagerServiceClient({
      fallback: 'rest',
      apiEndpoint: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      projectId: 'coffer-double',
    });
    const name = `projects/coffer-double/secrets/contract-${secretId}`;
    await client.listSecretVersions({ parent: name, pageSize: 1 }, { autoPaginate: false });
    const [version] = await client.getSecretVersion({ name: `${name}/versions/coffer-v2` });
    await client.disableSecretVersion({ name: version.name! });
    await client.accessSecretVersion({ name: version.name! }).catch(() => {});
    await client.enableSecretVersion({ name: version.name! });
    await client.createSecret({
      parent: 'projects/coffer-double',
      secretId: 'replicated',
      secret: { replication: { userManaged: { replicas: [{ location: 'europe-west1' }] } } },
    });
    await client.addSecretVersion({
      parent: 'projects/coffer-double/secrets/replicated',
      payload: { data: Buffer.from('x') },
    });
    await client.getSecretVersion({ name: 'projects/coffer-double/secrets/replicated/versions/latest' });
    await client
      .createSecret({ parent: 'projects/coffer-double', secretId: 'bad id!', secret: {} })
      .catch(() => {});
    await client.createSecret({
      parent: 'projects/coffer-double/locations/europe-west1',
      secretId: 'regional',
      secret: { labels: { team: 'a' } },
    });
    await client.listSecrets(
      { parent: 'projects/coffer-double/locations/europe-west1' },
      { autoPaginate: false },
    );
    await client.deleteSecret({ name: 'projects/coffer-double/locations/europe-west1/secrets/regional' });
    await backend.delete({ secretId, version: 2 });
    await client.close();
    answers = double.faults.answers();
  });
  afterAll(() => made?.close());

  it('answered every request the SDK sent on a documented route', () => {
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((a) => a.route === undefined)).toEqual([]);
    const served = new Set(answers.map((a) => a.route!.rpc));
    for (const rpc of [
      'CreateSecret',
      'GetSecret',
      'UpdateSecret',
      'DeleteSecret',
      'ListSecrets',
      'AddSecretVersion',
    ]) {
      expect(served.has(rpc), rpc).toBe(true);
    }
    for (const rpc of [
      'AccessSecretVersion',
      'DestroySecretVersion',
      'ListSecretVersions',
      'GetSecretVersion',
    ]) {
      expect(served.has(rpc), rpc).toBe(true);
    }
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
