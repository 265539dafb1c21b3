import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import azureKeyVault from '@coffer/backend-azure-key-vault';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-azure-key-vault/double';
import { createContractContext } from '@coffer/backend-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useEnv } from './support.js';

// The double's wire protocol through the official JS SDK and raw HTTPS: what Key Vault's REST
// reference documents, independent of Coffer's backend.
interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(
  double: StoreDoubleHandle,
  method: string,
  path: string,
  init: { token?: string; body?: string } = {},
) {
  const url = new URL(path, double.url);
  return new Promise<Raw>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(double.faults.caFile, 'utf8'),
        headers: {
          ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

function sdk(double: StoreDoubleHandle, serviceVersion?: '7.5' | '7.6' | '2025-07-01'): SecretClient {
  const ca = readFileSync(double.faults.caFile, 'utf8');
  const credential = new ClientSecretCredential(
    double.faults.tenantId,
    double.env.AZURE_CLIENT_ID!,
    double.env.AZURE_CLIENT_SECRET!,
    { authorityHost: double.url, disableInstanceDiscovery: true, tlsOptions: { ca } },
  );
  return new SecretClient(double.url, credential, {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca },
    retryOptions: { maxRetries: 0 },
    ...(serviceVersion === undefined ? {} : { serviceVersion }),
  });
}

async function tokenFor(
  double: StoreDoubleHandle,
  form: Record<string, string>,
  tenant = double.faults.tenantId,
) {
  const body = new URLSearchParams(form).toString();
  const url = new URL(`/${tenant}/oauth2/v2.0/token`, double.url);
  return new Promise<Raw>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: readFileSync(double.faults.caFile, 'utf8'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the Key Vault double on the wire', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
  });
  afterAll(() => double?.close());

  it('challenges a request without a token the way Key Vault does', async () => {
    const res = await raw(double, 'GET', '/secrets?api-version=7.4');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer authorization="${double.url}/${double.faults.tenantId}", resource="https://vault.azure.net"`,
    );
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
    });
  });

  it('issues client-credentials tokens for the vault scope only, with Entra ID errors', async () => {
    const good = {
      grant_type: 'client_credentials',
      client_id: double.env.AZURE_CLIENT_ID!,
      client_secret: double.env.AZURE_CLIENT_SECRET!,
      scope: 'https://vault.azure.net/.default',
    };
    const issued = await tokenFor(double, good);
    expect(issued.status).toBe(200);
    const token = (JSON.parse(issued.body) as { access_token: string; token_type: string }).access_token;
    const listed = await raw(double, 'GET', '/secrets?api-version=7.4&maxresults=1', { token });
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toEqual({ value: [], nextLink: null });
    const wrong = await tokenFor(double, { ...good, client_secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    const unknownApp = await tokenFor(double, { ...good, client_id: '00000000-0000-4000-8000-000000000000' });
    expect(JSON.parse(unknownApp.body)).toMatchObject({
      error: 'unauthorized_client',
      error_codes: [700016],
    });
    const otherScope = await tokenFor(double, { ...good, scope: 'https://graph.microsoft.com/.default' });
    expect(JSON.parse(otherScope.body)).toMatchObject({ error: 'invalid_scope' });
    const otherTenant = await tokenFor(double, good, '00000000-0000-4000-8000-000000000001');
    expect(JSON.parse(otherTenant.body)).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
    const forged = await raw(double, 'GET', '/secrets?api-version=7.4', { token: `${token}x` });
    expect(forged.status).toBe(401);
  });

  it('refuses an unknown or missing api-version with 400 BadParameter', async () => {
    const issued = await tokenFor(double, {
      grant_type: 'client_credentials',
      client_id: double.env.AZURE_CLIENT_ID!,
      client_secret: double.env.AZURE_CLIENT_SECRET!,
      scope: 'https://vault.azure.net/.default',
    });
    const token = (JSON.parse(issued.body) as { access_token: string }).access_token;
    for (const path of ['/secrets?api-version=1999-01-01', '/secrets']) {
      const res = await raw(double, 'GET', path, { token });
      expect(res.status).toBe(400);
      expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('BadParameter');
    }
    const tooMany = await raw(double, 'GET', '/secrets?api-version=7.4&maxresults=26', { token });
    expect(tooMany.status).toBe(400);
  });

  it('serves the JS SDK at every api-version it sends: set, versions, paging, update, delete, recover, purge', async () => {
    for (const version of ['7.5', '7.6', '2025-07-01'] as const) {
      const client = sdk(double, version);
      const name = `js-${version.replace(/\./g, '-')}`;
      const first = await client.setSecret(name, 'one', { tags: { a: 'b' }, contentType: 'text/plain' });
      await client.setSecret(name, 'two');
      expect((await client.getSecret(name)).value).toBe('two');
      expect((await client.getSecret(name, { version: first.properties.version! })).value).toBe('one');
      const pages: number[] = [];
      for await (const page of client.listPropertiesOfSecretVersions(name).byPage({ maxPageSize: 1 })) {
        pages.push(page.length);
      }
      expect(pages).toEqual([1, 1]);
      await client.updateSecretProperties(name, first.properties.version!, { enabled: false });
      const disabled = await client
        .getSecret(name, { version: first.properties.version! })
        .catch((e: unknown) => e);
      expect(disabled).toMatchObject({ statusCode: 403, code: 'Forbidden' });
      const deleting = await client.beginDeleteSecret(name);
      const deleted = await deleting.pollUntilDone();
      expect(deleted.recoveryId).toBe(`${double.url}/deletedsecrets/${name}`);
      expect(deleted.properties.recoveryLevel).toBe('Recoverable+Purgeable');
      const blocked = await client.setSecret(name, 'three').catch((e: unknown) => e);
      expect(blocked).toMatchObject({ statusCode: 409, code: 'Conflict' });
      await (await client.beginRecoverDeletedSecret(name)).pollUntilDone();
      expect((await client.getSecret(name)).value).toBe('two');
      await (await client.beginDeleteSecret(name)).pollUntilDone();
      await client.purgeDeletedSecret(name);
      expect((await client.setSecret(name, 'fresh')).value).toBe('fresh');
    }
    expect([...double.faults.apiVersions()]).toEqual(expect.arrayContaining(['7.5', '7.6', '2025-07-01']));
  });

  it('throttles past the 10-second limit with 429 Throttled and Retry-After', async () => {
    const tight = await startStoreDouble({ throttle: { otherPer10Seconds: 5 } });
    try {
      const client = sdk(tight);
      await client.setSecret('busy', 'value');
      let throttled: unknown;
      for (let i = 0; i < 20 && throttled === undefined; i++) {
        throttled = await client.getSecret('busy').then(
          () => undefined,
          (e: unknown) => e,
        );
      }
      expect(throttled).toMatchObject({ statusCode: 429, code: 'Throttled' });
      const headers = (throttled as { response: { headers: { get(n: string): string | undefined } } })
        .response.headers;
      expect(Number(headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await tight.close();
    }
  });

  it('lets a Coffer backend pin an older api-version', async () => {
    const restore = useEnv(double.env);
    const made = await createContractContext({ name: 'pinned', clusterPrefix: 'pinned' });
    try {
      const fresh = await startStoreDouble({ throttle: false });
      try {
        Object.assign(process.env, fresh.env);
        const config = azureKeyVault.configSchema.parse({ ...fresh.settings, serviceVersion: '7.5' });
        const backend = await azureKeyVault.create(config, made.context);
        const ref = { secretId: '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', version: 1 };
        await backend.put(ref, { pinned: true });
        expect(await backend.get(ref)).toEqual({ pinned: true });
        expect([...fresh.faults.apiVersions()]).toEqual(['7.5']);
      } finally {
        await fresh.close();
      }
    } finally {
      await made.close();
      restore();
    }
  });
});
