import azureKeyVault, {
  azureKeyVaultLimits,
  classifyAzureError,
  secretNameOf,
} from '@coffer/backend-azure-key-vault';
import { createContractContext } from '@coffer/backend-contract';
import type { BackendDefinition } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

const definitions = [azureKeyVault as BackendDefinition];

async function startError(settings: Record<string, unknown>): Promise<{ code: string; message: string }> {
  try {
    const fx = await createCofferFixture(
      'sqlite',
      { backends: { azure: { type: 'azure-key-vault', ...settings } }, backend: 'azure' },
      { backendDefinitions: definitions },
    );
    await fx.close();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the start to fail');
}

async function refusal(
  promise: Promise<unknown>,
): Promise<Error & { code: string; details: Record<string, unknown> }> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
  );
}

const id = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, '0')}`;

describe('azure-key-vault settings', () => {
  it('refuses bad settings with invalid_config naming each one', async () => {
    const err = await startError({
      vaultUrl: 'http://acme.vault.azure.net',
      authorityHost: 'not a url',
      serviceVersion: '7.2',
      writesPerSecond: -1,
      clientSecret: 'never-in-config',
    });
    expect(err.code).toBe('invalid_config');
    for (const path of [
      'backends.azure.vaultUrl',
      'backends.azure.authorityHost',
      'backends.azure.serviceVersion',
      'backends.azure.writesPerSecond',
    ]) {
      expect(err.message).toContain(path);
    }
    expect(err.message).toContain('clientSecret');
    expect(err.message).not.toContain('never-in-config');
  });

  it('needs a vault URL, without a path', async () => {
    expect((await startError({})).message).toContain('backends.azure.vaultUrl');
    const withPath = await startError({ vaultUrl: 'https://acme.vault.azure.net/secrets/x' });
    expect(withPath.code).toBe('invalid_config');
    expect(withPath.message).toContain('backends.azure.vaultUrl');
  });

  it('names caCertificatesFile when it cannot be read', async () => {
    const err = await startError({
      vaultUrl: 'https://acme.vault.azure.net',
      caCertificatesFile: '/nonexistent/ca.pem',
    });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.azure.caCertificatesFile');
  });

  it('fills in the defaults', () => {
    expect(azureKeyVault.configSchema.parse({ vaultUrl: 'https://acme.vault.azure.net' })).toEqual({
      vaultUrl: 'https://acme.vault.azure.net',
      disableInstanceDiscovery: false,
      disableChallengeResourceVerification: false,
      purgeDeleted: false,
      maxAttempts: 5,
      requestTimeoutMs: 10_000,
    });
  });

  it('makes names of the cluster prefix and the secret id, within Key Vault rules', () => {
    const name = secretNameOf('prod-eu', id(1));
    expect(name).toBe(`prod-eu-${id(1)}`);
    expect(name).toMatch(/^[0-9a-zA-Z-]{1,127}$/);
    expect(secretNameOf('p'.repeat(32), id(1)).length).toBeLessThanOrEqual(127);
    expect(() => secretNameOf('prod', 'My Secret')).toThrow();
  });

  it('classifies Key Vault and Entra ID failures by code, never by message', () => {
    const rest = (statusCode: number, code?: string, inner?: string, retryAfter?: string) =>
      Object.assign(new Error('vendor text with a secret value'), {
        name: 'RestError',
        statusCode,
        code,
        details: inner === undefined ? undefined : { error: { code, innerError: { code: inner } } },
        response: { headers: { get: (h: string) => (h === 'retry-after' ? retryAfter : undefined) } },
      });
    expect(classifyAzureError(rest(429, 'Throttled', undefined, '3'))).toEqual({
      kind: 'throttled',
      vendorCode: 'Throttled',
      retry: true,
      afterMs: 3000,
    });
    expect(classifyAzureError(rest(401, 'Unauthorized'))).toMatchObject({
      kind: 'unauthenticated',
      retry: false,
    });
    expect(classifyAzureError(rest(403, 'Forbidden', 'ForbiddenByRbac'))).toMatchObject({
      kind: 'permission_denied',
      vendorCode: 'ForbiddenByRbac',
    });
    expect(classifyAzureError(rest(403, 'Forbidden', 'SecretDisabled'))).toMatchObject({ kind: 'disabled' });
    expect(classifyAzureError(rest(404, 'SecretNotFound'))).toMatchObject({ kind: 'not_found' });
    expect(classifyAzureError(rest(409, 'Conflict', 'ObjectIsDeletedButRecoverable'))).toMatchObject({
      kind: 'deleted',
    });
    expect(classifyAzureError(rest(503, 'ServiceUnavailable'))).toMatchObject({
      kind: 'server_error',
      retry: true,
    });
    // a 404 that is not Key Vault's (a proxy, a wrong URL) is not a missing secret
    expect(classifyAzureError(rest(404))).toMatchObject({ kind: 'unreachable', vendorCode: 'HTTP404' });
    const entra = Object.assign(new Error('AADSTS7000215: Invalid client secret provided.'), {
      name: 'AuthenticationError',
      errorResponse: {
        error: 'EnvironmentCredential authentication failed.',
        errorDescription: 'AADSTS7000215: x',
      },
    });
    expect(classifyAzureError(entra)).toEqual({
      kind: 'unauthenticated',
      vendorCode: 'AADSTS7000215',
      retry: false,
    });
    expect(classifyAzureError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toMatchObject({
      kind: 'unreachable',
      retry: true,
    });
    expect(classifyAzureError(Object.assign(new Error('x'), { name: 'AbortError' }))).toMatchObject({
      kind: 'timeout',
      retry: true,
    });
  });
});

describe('azure-key-vault limits, ownership and deletion', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
  });
  afterAll(() => made?.close());

  it('declares 25 KB and no version limit', () => {
    expect(azureKeyVaultLimits).toEqual({ maxValueBytes: 25_600 });
    expect(made.backend.limits).toEqual(azureKeyVaultLimits);
  });

  it('refuses an oversized value with payload_too_large before sending anything', async () => {
    made.double.faults.resetCounts();
    const planted = `PLANTED-${'z'.repeat(26_000)}`;
    const err = await refusal(made.backend.put({ secretId: id(1), version: 1 }, { blob: planted }));
    expect(err.code).toBe('payload_too_large');
    expect(err.details).toMatchObject({ limit: 25_600 });
    expect(err.message).not.toContain('PLANTED');
    expect(made.double.faults.requestCount()).toBe(0);
  });

  it('stores exactly 25,600 bytes', async () => {
    const ref = { secretId: id(2), version: 1 };
    const blob = 'a'.repeat(25_600 - '{"b":""}'.length);
    await made.backend.put(ref, { b: blob });
    expect(await made.backend.get(ref)).toEqual({ b: blob });
  });

  it('keeps a replaced version out of reach: disabled, and the new one read', async () => {
    const ref = { secretId: id(3), version: 1 };
    await made.backend.put(ref, { v: 'first' });
    const before = made.double.faults.enabledVersionCount();
    await made.backend.put(ref, { v: 'second' });
    expect(made.double.faults.enabledVersionCount()).toBe(before);
    expect(await made.backend.get(ref)).toEqual({ v: 'second' });
  });

  it('refuses to read, write or delete a secret another deployment tagged, and leaves it', async () => {
    const ref = { secretId: id(4), version: 1 };
    await made.backend.put(ref, { mine: 'no longer' });
    const name = secretNameOf('contract', ref.secretId);
    made.double.faults.setTags(name, {
      'coffer-deployment': 'someone-else',
      'coffer-secret-id': ref.secretId,
      'coffer-version': '1',
    });
    const fresh = await createContractContext({ name: 'azure2', clusterPrefix: 'contract' });
    const config = azureKeyVault.configSchema.parse({ ...made.double.settings, writesPerSecond: 0 });
    const second = await azureKeyVault.create(config, fresh.context);
    try {
      expect((await refusal(second.get(ref))).code).toBe('integrity');
      expect((await refusal(second.put({ ...ref, version: 2 }, { theirs: 'no' }))).code).toBe('integrity');
      expect((await refusal(second.delete(ref))).code).toBe('integrity');
      expect(await second.list({ secretId: ref.secretId })).toEqual([]);
      expect(made.double.faults.secretNames()).toContain(name);
    } finally {
      await second.close?.();
      await fresh.close();
    }
  });

  it('soft-deletes with the last version, and recovers the name when it is written again', async () => {
    const ref = { secretId: id(5), version: 1 };
    const name = secretNameOf('contract', ref.secretId);
    await made.backend.put(ref, { v: 1 });
    await made.backend.put({ ...ref, version: 2 }, { v: 2 });
    await made.backend.delete(ref);
    expect(made.double.faults.deletedNames()).not.toContain(name);
    await made.backend.delete({ ...ref, version: 2 });
    expect(made.double.faults.deletedNames()).toContain(name);
    expect(made.double.faults.secretNames()).not.toContain(name);
    await made.backend.put({ ...ref, version: 3 }, { v: 3 });
    expect(made.double.faults.deletedNames()).not.toContain(name);
    // the versions Coffer deleted stay deleted (they were disabled before the secret went)
    expect(await made.backend.list({ secretId: ref.secretId })).toEqual([{ ...ref, version: 3 }]);
    expect(await made.backend.get({ ...ref, version: 3 })).toEqual({ v: 3 });
  });

  it('brings back a value deleted behind its back when the name is written again', async () => {
    const ref = { secretId: id(6), version: 1 };
    const name = secretNameOf('contract', ref.secretId);
    await made.backend.put(ref, { v: 'kept by the vault' });
    expect(made.double.faults.removeSecret(name)).toBe(true);
    expect((await refusal(made.backend.get(ref))).code).toBe('value_not_found');
    await made.backend.put({ ...ref, version: 2 }, { v: 'new' });
    expect(await made.backend.list({ secretId: ref.secretId })).toEqual([ref, { ...ref, version: 2 }]);
    expect(await made.backend.get(ref)).toEqual({ v: 'kept by the vault' });
  });
});

describe('azure-key-vault with purgeDeleted', () => {
  it('purges a deleted secret, and leaves it to its retention when purge protection is on', async () => {
    for (const purgeProtection of [false, true]) {
      const made = await backendOnDouble(
        { writesPerSecond: 0, purgeDeleted: true },
        { throttle: false, purgeProtection },
      );
      try {
        const ref = { secretId: id(7), version: 1 };
        const name = secretNameOf('contract', ref.secretId);
        await made.backend.put(ref, { v: 1 });
        await made.backend.delete(ref);
        expect(made.double.faults.secretNames()).toEqual([]);
        expect(made.double.faults.deletedNames()).toEqual(purgeProtection ? [name] : []);
        // either way the name can be written again: purged, or (under purge protection) recovered
        await made.backend.put({ ...ref, version: 2 }, { v: 2 });
        expect(await made.backend.get({ ...ref, version: 2 })).toEqual({ v: 2 });
        expect(made.double.faults.deletedNames()).toEqual([]);
        expect(await made.backend.list({ secretId: ref.secretId })).toEqual([{ ...ref, version: 2 }]);
      } finally {
        await made.close();
      }
    }
  });
});

describe("azure-key-vault under Key Vault's limits", () => {
  it('says throttled (429 Throttled) when the 10-second create limit is used up', async () => {
    const made = await backendOnDouble(
      { writesPerSecond: 0, maxAttempts: 1 },
      { throttle: { createPer10Seconds: 2 } },
    );
    try {
      await made.backend.put({ secretId: id(8), version: 1 }, { a: '1' });
      await made.backend.put({ secretId: id(8), version: 2 }, { a: '2' });
      const err = await refusal(made.backend.put({ secretId: id(8), version: 3 }, { a: '3' }));
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({ reason: 'throttled', vendorCode: 'Throttled' });
    } finally {
      await made.close();
    }
  });
});
