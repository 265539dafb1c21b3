import { fileURLToPath } from 'node:url';
import { debianAzureSdkPresent, runDebianAzureScript } from '@coffer/azure-kit/double';
import { secretNameOf } from '@coffer/backend-azure-key-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

// The double driven by a client nobody here wrote: Debian's Azure SDK for Python
// (python3-azure: azure-keyvault-secrets 4.7 with api-version 7.3, azure-identity with MSAL).
// It parses the answers with its own models and runs its own challenge and token flows, so a
// double that strays from Key Vault's wire protocol fails here.
const script = fileURLToPath(new URL('./azure-client.py', import.meta.url));

const present = await debianAzureSdkPresent({
  module: 'azure.keyvault.secrets',
  checks: 'the Python Azure SDK checks',
});

interface ErrorSeen {
  type: string;
  status?: number;
  code?: string | null;
  inner?: string | null;
  message?: string;
}

describe.skipIf(!present)("the double through Debian's Azure SDK for Python (independent client)", () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let out: Record<string, unknown>;
  const ref = { secretId: '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', version: 3 };

  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, clusterPrefix: 'debian' });
    await made.backend.put(ref, { user: 'alice', port: 5432, tls: true });
    const { faults } = made.double;
    const identity = (env: Record<string, string>) => ({
      clientId: env.AZURE_CLIENT_ID,
      clientSecret: env.AZURE_CLIENT_SECRET,
    });
    const job = {
      url: made.double.url,
      tenantId: faults.tenantId,
      officer: identity(made.double.env),
      reader: identity(faults.identities.reader.env),
      wrongSecret: identity(faults.identities.wrongSecret.env),
      cofferName: secretNameOf('debian', ref.secretId),
    };
    const { code, stdout, stderr } = await runDebianAzureScript(script, job, {
      caFile: faults.caFile,
      timeoutMs: 60_000,
    });
    expect(code, stderr).toBe(0);
    out = JSON.parse(stdout) as Record<string, unknown>;
  }, 90_000);
  afterAll(() => made?.close());

  it('gets tokens through the challenge and speaks api-version 7.3', () => {
    expect(out.apiVersion).toBe('7.3');
    expect(made.double.faults.apiVersions().has('7.3')).toBe(true);
    // and Coffer's own client sent the newest
    expect(made.double.faults.apiVersions().has('2025-07-01')).toBe(true);
  });

  it('sets, reads old and new versions, and keeps tags and the content type', () => {
    expect(out.latest).toBe('value-2');
    expect(out.old).toBe('value-1');
    expect(out.tags).toEqual({ team: 'blue' });
    expect(out.contentType).toBe('text/plain');
    expect(out.recoveryLevel).toBe('Recoverable+Purgeable');
    expect(String(out.firstVersion)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('pages through versions and secrets by nextLink', () => {
    expect(out.versionPages).toBe(2);
    expect((out.versions as string[]).length).toBe(2);
    expect(out.names).toEqual(expect.arrayContaining(['py-one', 'py-two', 'py-three']));
  });

  it('answers a disabled version with 403 SecretDisabled and a missing one with 404 SecretNotFound', () => {
    expect(out.disabledError).toMatchObject({ status: 403, code: 'Forbidden', inner: 'SecretDisabled' });
    expect(out.missingError).toMatchObject({ status: 404, code: 'SecretNotFound' });
    expect(out.missingType).toBe('ResourceNotFoundError');
  });

  it('soft-deletes, blocks the name with 409, recovers, purges and lets the name be reused', () => {
    expect(out.recoveryId).toBe(`${made.double.url}/deletedsecrets/py-one`);
    expect(out.scheduledPurge).toBe(true);
    expect(out.deletedName).toBe('py-one');
    expect(out.blockedError).toMatchObject({
      status: 409,
      code: 'Conflict',
      inner: 'ObjectIsDeletedButRecoverable',
    });
    expect(out.blockedIsExists).toBe(true);
    expect(out.recovered).toBe('value-2');
    expect(out.deletedAfterPurge).toEqual([]);
    expect(out.purgedError).toMatchObject({ status: 404, code: 'SecretNotFound' });
    expect(out.reused).toBe('reused');
  });

  it("refuses a value over 25 KB and a name outside Key Vault's rules with 400 BadParameter", () => {
    expect(out.tooLargeError).toMatchObject({ status: 400, code: 'BadParameter' });
    expect(out.badNameError).toMatchObject({ status: 400, code: 'BadParameter' });
  });

  it('reads a value Coffer wrote, with its owner tags', () => {
    expect(JSON.parse(String(out.cofferValue))).toEqual({ user: 'alice', port: 5432, tls: true });
    expect(out.cofferContentType).toBe('application/json');
    expect(out.cofferTags).toEqual({
      'coffer-deployment': made.deploymentId,
      'coffer-cluster': 'debian',
      'coffer-secret-id': ref.secretId,
      'coffer-version': '3',
    });
  });

  it('gives a reader 403 ForbiddenByRbac on writes and a wrong client secret AADSTS7000215', () => {
    expect(out.readerRead).toBe('reused');
    expect(out.readerWriteError).toMatchObject({ status: 403, code: 'Forbidden', inner: 'ForbiddenByRbac' });
    const wrong = out.wrongSecretError as ErrorSeen;
    expect(wrong.type).toBe('ClientAuthenticationError');
    expect(wrong.message).toContain('AADSTS7000215');
  });
});
