import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, sdkClients, vaultDouble } from './support.js';

// The keys double as Azure's own JavaScript SDK sees it: keys, versions, wrap and unwrap,
// attributes, rotation, Key Vault's errors, the challenge and throttling.
type Vault = Awaited<ReturnType<typeof vaultDouble>>;

/** A bare HTTPS request to the double, trusting its certificate. */
function raw(
  vault: Vault,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const ca = readFileSync(vault.faults.caFile, 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(`${vault.url}${path}`, { ca, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the Key Vault keys double through the Azure SDK', () => {
  let vault: Vault;
  let sdk: ReturnType<typeof sdkClients>;

  beforeAll(async () => {
    vault = await vaultDouble();
    sdk = sdkClients(vault);
  });
  afterAll(async () => {
    await vault?.close();
    vault?.restoreEnv();
  });

  it('challenges a request without a token, naming its tenant and the vault resource', async () => {
    const answer = await raw(vault, '/keys/coffer?api-version=7.5');
    expect(answer.status).toBe(401);
    expect(String(answer.headers['www-authenticate'])).toBe(
      `Bearer authorization="${vault.url}/${vault.faults.tenantId}", resource="https://vault.azure.net"`,
    );
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'Unauthorized' } });
  });

  it('makes RSA keys and versions, and wraps and unwraps with RSA-OAEP-256 under each version', async () => {
    const made = await sdk.keys.createRsaKey('sdk-key', { keySize: 3072, keyOps: ['wrapKey', 'unwrapKey'] });
    expect(made).toMatchObject({ name: 'sdk-key', keyType: 'RSA', keyOperations: ['wrapKey', 'unwrapKey'] });
    expect(made.key?.n?.length).toBe(384);
    expect(made.properties).toMatchObject({ enabled: true, recoveryLevel: 'Recoverable+Purgeable' });
    expect(made.id).toBe(`${vault.url}/keys/sdk-key/${made.properties.version}`);

    const dataKey = randomBytes(32);
    const crypto = sdk.crypto(made.id!);
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', dataKey);
    expect(wrapped.result.length).toBe(384);
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result).equals(dataKey)).toBe(
      true,
    );

    const rotated = await sdk.keys.rotateKey('sdk-key');
    expect(rotated.properties.version).not.toBe(made.properties.version);
    expect(rotated.keyOperations).toEqual(['wrapKey', 'unwrapKey']);
    expect((await sdk.keys.getKey('sdk-key')).properties.version).toBe(rotated.properties.version);
    const pages: number[] = [];
    for await (const page of sdk.keys.listPropertiesOfKeyVersions('sdk-key').byPage({ maxPageSize: 1 })) {
      pages.push(page.length);
    }
    expect(pages).toEqual([1, 1]);
    // the old version still unwraps what it wrapped
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result).equals(dataKey)).toBe(
      true,
    );
    // and another version does not
    const other = await rejectionOf(sdk.crypto(rotated.id!).unwrapKey('RSA-OAEP-256', wrapped.result));
    expect(other).toMatchObject({ statusCode: 400, code: 'BadParameter' });

    await sdk.keys.updateKeyProperties('sdk-key', made.properties.version!, { enabled: false });
    const disabled = await rejectionOf(
      sdk
        .crypto(`${vault.url}/keys/sdk-key/${made.properties.version}`)
        .unwrapKey('RSA-OAEP-256', wrapped.result),
    );
    expect(disabled).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    expect((disabled as unknown as { details: unknown }).details).toMatchObject({
      error: { code: 'Forbidden', innerError: { code: 'KeyDisabled' } },
    });

    const missing = await rejectionOf(sdk.keys.getKey('no-such-key'));
    expect(missing).toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
    const badName = await rejectionOf(sdk.keys.createRsaKey('bad_name', {}));
    expect(badName).toMatchObject({ statusCode: 400, code: 'BadParameter' });
  });
});

describe('the Key Vault keys double with throttling on', () => {
  let vault: Vault;
  let sdk: ReturnType<typeof sdkClients>;

  beforeAll(async () => {
    vault = await vaultDouble({ throttle: { createPer10Seconds: 2 } });
    sdk = sdkClients(vault);
  });
  afterAll(async () => {
    await vault?.close();
    vault?.restoreEnv();
  });

  it('answers 429 Throttled with a Retry-After once the create limit is spent, and wraps on', async () => {
    await sdk.keys.createRsaKey('t-1', { keySize: 2048 });
    await sdk.keys.createRsaKey('t-2', { keySize: 2048 });
    const err = await rejectionOf(sdk.keys.createRsaKey('t-3', { keySize: 2048 }));
    expect(err).toMatchObject({ statusCode: 429, code: 'Throttled' });
    const retryAfter = (
      err as unknown as { response?: { headers?: { get(n: string): string | undefined } } }
    ).response?.headers?.get('retry-after');
    expect(Number(retryAfter)).toBeGreaterThan(0);
    const wrapped = await sdk.crypto(`${vault.keyId}`).wrapKey('RSA-OAEP-256', randomBytes(32));
    expect(wrapped.result.length).toBe(256);
  });
});
