import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { classifyKubernetesError } from '@coffer/backend-kubernetes';
import {
  parseLabelSelector,
  type StoreDoubleHandle,
  startStoreDouble,
} from '@coffer/backend-kubernetes/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The double's wire protocol checked by plain HTTPS requests: the Status bodies, codes and
// headers the API server documents, so neither client-node nor kubectl can paper over them.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

function call(
  double: StoreDoubleHandle,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; contentType?: string; raw?: Buffer } = {},
): Promise<Answer> {
  const url = new URL(path, double.url);
  const payload =
    options.raw ??
    (options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8'));
  const token = options.token === undefined ? double.faults.tokens.main : options.token;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: double.faults.caFile === undefined ? undefined : readFileSync(double.faults.caFile),
        headers: {
          accept: 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(payload === undefined
            ? {}
            : {
                'content-type': options.contentType ?? 'application/json',
                'content-length': String(payload.length),
              }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const base = '/api/v1/namespaces/coffer/secrets';
const secret = (
  name: string,
  data: Record<string, string> = { a: 'YQ==' },
  extra: Record<string, unknown> = {},
) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, ...extra },
  type: 'Opaque',
  data,
});

describe('the double on the wire', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false, continueTtlMs: 60_000 });
  });
  afterAll(() => double?.close());

  it('answers a token it does not know with 401 and an anonymous discovery request with 403', async () => {
    const denied = await call(double, 'GET', base, { token: 'not-a-token' });
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const anonymous = await call(double, 'GET', '/api', { token: null });
    expect(anonymous.status).toBe(403);
    expect(anonymous.body.reason).toBe('Forbidden');
    expect((await call(double, 'GET', '/version', { token: null })).status).toBe(200);
  });

  it('moves resourceVersion forward on every change, not on an update that changes nothing', async () => {
    const created = await call(double, 'POST', base, { body: secret('rv') });
    expect(created.status).toBe(201);
    const meta = created.body.metadata as { resourceVersion: string; uid: string; creationTimestamp: string };
    expect(meta.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const same = await call(double, 'PUT', `${base}/rv`, {
      body: secret('rv', { a: 'YQ==' }, { resourceVersion: meta.resourceVersion }),
    });
    expect((same.body.metadata as { resourceVersion: string }).resourceVersion).toBe(meta.resourceVersion);
    const changed = await call(double, 'PUT', `${base}/rv`, {
      body: secret('rv', { a: 'Yg==' }, { resourceVersion: meta.resourceVersion }),
    });
    const next = (changed.body.metadata as { resourceVersion: string }).resourceVersion;
    expect(Number(next)).toBeGreaterThan(Number(meta.resourceVersion));
    const stale = await call(double, 'PUT', `${base}/rv`, {
      body: secret('rv', { a: 'Yw==' }, { resourceVersion: meta.resourceVersion }),
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      code: 409,
      message:
        'Operation cannot be fulfilled on secrets "rv": the object has been modified; please apply your changes to the latest version and try again',
    });
    const unconditional = await call(double, 'PUT', `${base}/rv`, { body: secret('rv', { a: 'ZA==' }) });
    expect(unconditional.status).toBe(200);
    const again = await call(double, 'POST', base, { body: secret('rv') });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ reason: 'AlreadyExists', details: { name: 'rv', kind: 'secrets' } });
    const missing = await call(double, 'PUT', `${base}/nope`, { body: secret('nope') });
    expect(missing.status).toBe(404);
  });

  it('deletes with a Status success body, and refuses a stale precondition', async () => {
    const made = await call(double, 'POST', base, { body: secret('gone') });
    const { uid, resourceVersion } = made.body.metadata as { uid: string; resourceVersion: string };
    const stale = await call(double, 'DELETE', `${base}/gone`, {
      body: {
        preconditions: { uid, resourceVersion: `${resourceVersion}0` },
        propagationPolicy: 'Background',
      },
    });
    expect(stale.status).toBe(409);
    const done = await call(double, 'DELETE', `${base}/gone`, {
      body: { preconditions: { uid, resourceVersion }, propagationPolicy: 'Background' },
    });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'gone', kind: 'secrets', uid },
    });
    expect((await call(double, 'GET', `${base}/gone`)).body).toMatchObject({
      reason: 'NotFound',
      message: 'secrets "gone" not found',
    });
  });

  it('holds a Secret with finalizers until they are removed', async () => {
    await call(double, 'POST', base, {
      body: secret('held', { a: 'YQ==' }, { finalizers: ['example.com/hold'] }),
    });
    const marked = await call(double, 'DELETE', `${base}/held`);
    expect(marked.status).toBe(200);
    expect((marked.body.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeTruthy();
    const patched = await call(double, 'PATCH', `${base}/held`, {
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(200);
    expect((await call(double, 'GET', `${base}/held`)).status).toBe(404);
  });

  it('wants the namespace to exist for a create, and lists nothing in a missing one', async () => {
    const create = await call(double, 'POST', '/api/v1/namespaces/elsewhere/secrets', { body: secret('x') });
    expect(create.status).toBe(404);
    expect(create.body).toMatchObject({
      message: 'namespaces "elsewhere" not found',
      details: { kind: 'namespaces' },
    });
    const list = await call(double, 'GET', '/api/v1/namespaces/elsewhere/secrets');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
  });

  it('refuses a body over 3 MiB with 413, and data over 1 MiB with 422 Invalid', async () => {
    const huge = await call(double, 'POST', base, {
      body: secret('huge', { a: Buffer.alloc(2_400_000).toString('base64') }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: limit is 3145728',
    });
    const big = await call(double, 'POST', base, {
      body: secret('big', {
        a: Buffer.alloc(1_048_000).toString('base64'),
        b: Buffer.alloc(577).toString('base64'),
      }),
    });
    expect(big.status).toBe(422);
    expect(big.body).toMatchObject({
      reason: 'Invalid',
      message: 'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes',
      details: { causes: [{ reason: 'FieldValueTooLong', field: 'data' }] },
    });
    const bad = await call(double, 'POST', base, { body: secret('bad', { 'no/slash': 'YQ==' }) });
    expect(bad.status).toBe(422);
    const notBase64 = await call(double, 'POST', base, { body: secret('b64', { a: 'not base64!' }) });
    expect(notBase64.status).toBe(400);
  });

  it('pages with continue tokens from one snapshot, and expires them after a compaction', async () => {
    for (const n of [1, 2, 3, 4])
      await call(double, 'POST', base, { body: secret(`page-${n}`, {}, { labels: { set: 'p' } }) });
    const first = await call(double, 'GET', `${base}?labelSelector=set%3Dp&limit=2`);
    const token = (first.body.metadata as { continue: string }).continue;
    expect((first.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual([
      'page-1',
      'page-2',
    ]);
    await call(double, 'POST', base, { body: secret('page-5', {}, { labels: { set: 'p' } }) });
    const second = await call(
      double,
      'GET',
      `${base}?labelSelector=set%3Dp&limit=2&continue=${encodeURIComponent(token)}`,
    );
    const names = (second.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    expect(names).toEqual(['page-3', 'page-4']);
    // page-5 came after the snapshot: the last page is empty and ends the list
    const rest = (second.body.metadata as { continue?: string }).continue;
    expect(rest).toBeUndefined();
    double.faults.compact();
    const expired = await call(double, 'GET', `${base}?limit=2&continue=${encodeURIComponent(token)}`);
    expect(expired.status).toBe(410);
    expect(expired.body.reason).toBe('Expired');
  });

  it('answers 429 with Retry-After when API Priority and Fairness throttles', async () => {
    const throttled = await startStoreDouble({ throttle: { perSecond: 0.01, burst: 1 } });
    try {
      expect((await call(throttled, 'GET', base)).status).toBe(200);
      const refused = await call(throttled, 'GET', base);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.body).toMatchObject({ reason: 'TooManyRequests', code: 429 });
    } finally {
      await throttled.close();
    }
  });

  it('refuses writes to a read-only service account with the RBAC message', async () => {
    const refused = await call(double, 'POST', base, {
      body: secret('ro'),
      token: double.faults.tokens.readOnly,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe(
      'secrets is forbidden: User "system:serviceaccount:coffer:coffer-reader" cannot create resource "secrets" in API group "" in the namespace "coffer"',
    );
  });

  it('streams watch events', async () => {
    const events: string[] = [];
    const url = new URL(`${base}?watch=true&labelSelector=w%3D1`, double.url);
    const ca = readFileSync(double.faults.caFile!);
    let started!: () => void;
    const watching = new Promise<void>((resolve) => {
      started = resolve;
    });
    const done = new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        { ca, headers: { authorization: `Bearer ${double.faults.tokens.main}` } },
        (res) => {
          // the headers come once the watch is registered
          started();
          res.on('data', (chunk: Buffer) => {
            for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
              const event = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
              events.push(`${event.type} ${event.object.metadata.name}`);
            }
            if (events.length >= 3) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', (err) => (events.length >= 3 ? resolve() : reject(err)));
      req.end();
    });
    await watching;
    await call(double, 'POST', base, { body: secret('watched', {}, { labels: { w: '1' } }) });
    await call(double, 'PATCH', `${base}/watched`, {
      body: { metadata: { labels: { x: 'y' } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    await call(double, 'DELETE', `${base}/watched`);
    await done;
    expect(events).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
  });
});

describe('label selectors', () => {
  const labels = { app: 'coffer', tier: 'db', n: '5' };
  it.each([
    ['app=coffer', true],
    ['app==coffer,tier=db', true],
    ['app!=coffer', false],
    ['missing!=x', true],
    ['tier in (db, cache)', true],
    ['tier notin (db)', false],
    ['missing notin (db)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['n>4,n<6', true],
    ['', true],
  ])('%s', (selector, matches) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(matches);
  });

  it('refuses what the API server cannot parse', () => {
    expect(() => parseLabelSelector('app in coffer')).toThrow(/unable to parse requirement/);
    expect(() => parseLabelSelector('Bad Key=x')).toThrow(/unable to parse requirement/);
  });
});

describe('classifying API errors', () => {
  const answer = (code: number, status: Record<string, unknown> | string | undefined, headers = {}) =>
    Object.assign(new Error('HTTP-Code: ... Body: secrets "planted-name" ...'), {
      code,
      body:
        typeof status === 'string' || status === undefined
          ? status
          : JSON.stringify({ kind: 'Status', ...status }),
      headers,
    });

  it.each([
    [
      answer(404, { reason: 'NotFound', details: { kind: 'secrets' } }),
      { kind: 'not_found', missing: 'secrets' },
    ],
    [
      answer(404, { reason: 'NotFound', details: { kind: 'namespaces' } }),
      { kind: 'not_found', missing: 'namespaces' },
    ],
    [answer(409, { reason: 'AlreadyExists' }), { kind: 'already_exists', retry: false }],
    [answer(409, { reason: 'Conflict' }), { kind: 'conflict', retry: false }],
    [answer(401, undefined), { kind: 'unauthenticated', vendorCode: 'Unauthorized' }],
    [answer(403, { reason: 'Forbidden' }), { kind: 'permission_denied', vendorCode: 'Forbidden' }],
    [
      answer(429, { reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } }, { 'retry-after': '2' }),
      { kind: 'throttled', retry: true, afterMs: 2000 },
    ],
    [answer(500, { reason: 'InternalError' }), { kind: 'server_error', retry: true }],
    [answer(504, { reason: 'Timeout' }), { kind: 'timeout', retry: true }],
    [
      answer(422, {
        reason: 'Invalid',
        details: { causes: [{ reason: 'FieldValueTooLong', field: 'data' }] },
      }),
      { kind: 'limit_exceeded' },
    ],
    [
      answer(422, { reason: 'Invalid', details: { causes: [] } }),
      { kind: 'rejected', vendorCode: 'Invalid' },
    ],
    [answer(413, { reason: 'RequestEntityTooLarge' }), { kind: 'limit_exceeded' }],
    [answer(410, { reason: 'Expired' }), { kind: 'expired' }],
    [answer(404, '<html>not here</html>'), { kind: 'unreachable', vendorCode: 'NotKubernetes' }],
    [answer(502, '<html>bad gateway</html>'), { kind: 'server_error', retry: true }],
    [
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      { kind: 'unreachable', retry: true },
    ],
    [
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } }),
      { kind: 'unreachable', retry: false },
    ],
    [Object.assign(new Error('aborted'), { name: 'TimeoutError' }), { kind: 'timeout', retry: true }],
    [
      Object.assign(new Error("ENOENT: no such file '/var/run/secrets/token'"), { code: 'ENOENT' }),
      { kind: 'unauthenticated' },
    ],
  ])('%#', (err, expected) => {
    const failure = classifyKubernetesError(err);
    expect(failure).toMatchObject(expected);
    expect(JSON.stringify(failure)).not.toContain('planted');
  });
});
