import { fileURLToPath } from 'node:url';
import { debianAzureSdkPresent, runDebianAzureScript } from '@coffer/azure-kit/double';
import { silentLogger } from '@coffer/core';
import {
  AzureKeyVaultKeySource,
  azureKeyVaultKeysConfigSchema,
  createKeyVaultClients,
  decodeWrapped,
} from '@coffer/keysource-azure-key-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultDouble } from './support.js';

// The double driven by a client nobody here wrote: Debian's Azure SDK for Python
// (python3-azure: azure-keyvault-keys with its own api-version, azure-identity with MSAL). It
// parses the answers with its own models, runs its own challenge and token flows, and wraps
// with the public key it reads from the double (so a JWK that is not the real key fails here).
const script = fileURLToPath(new URL('./azure-keys-client.py', import.meta.url));

const present = await debianAzureSdkPresent({
  module: 'azure.keyvault.keys.crypto',
  named: 'azure.keyvault.keys',
  checks: 'the Python Azure SDK checks of the keys double',
});

interface ErrorSeen {
  type: string;
  status?: number;
  code?: string | null;
  inner?: string | null;
  message?: string;
}

describe.skipIf(!present)(
  "the keys double through Debian's Azure SDK for Python (independent client)",
  () => {
    let vault: Awaited<ReturnType<typeof vaultDouble>>;
    let out: Record<string, unknown>;
    let cofferDataKey: Buffer;

    beforeAll(async () => {
      vault = await vaultDouble();
      const config = azureKeyVaultKeysConfigSchema.parse(vault.settings);
      const source = new AzureKeyVaultKeySource(createKeyVaultClients(config), config, {
        logger: silentLogger(),
        clock: () => new Date(),
      });
      const current = await source.current();
      const { dataKey, wrapped } = await source.generateDataKey(current, { 'coffer-secret': 's-1' });
      cofferDataKey = Buffer.from(dataKey);
      await source.close?.();
      const { faults } = vault;
      const identity = (env: Record<string, string>) => ({
        clientId: env.AZURE_CLIENT_ID,
        clientSecret: env.AZURE_CLIENT_SECRET,
      });
      const job = {
        url: vault.url,
        tenantId: faults.tenantId,
        officer: identity(vault.env),
        encryptionUser: identity(faults.identities.encryptionUser.env),
        wrongSecret: identity(faults.identities.wrongSecret.env),
        cofferWrap: {
          keyId: `${wrapped.keyId}/${wrapped.keyVersion}`,
          rsaWrap: decodeWrapped(wrapped.ciphertext)!.rsaWrap.toString('base64'),
        },
      };
      const { code, stdout, stderr } = await runDebianAzureScript(script, job, {
        caFile: faults.caFile,
        timeoutMs: 90_000,
      });
      expect(code, stderr).toBe(0);
      out = JSON.parse(stdout) as Record<string, unknown>;
    }, 120_000);
    afterAll(async () => {
      await vault?.close();
      vault?.restoreEnv();
    });

    it('gets tokens through the challenge, with its own api-version', () => {
      expect(vault.faults.apiVersions().has(String(out.apiVersion))).toBe(true);
      // and Coffer's own client sent the newest
      expect(vault.faults.apiVersions().has('2025-07-01')).toBe(true);
    });

    it('creates and reads an RSA key whose public key wraps what the vault unwraps', () => {
      expect(out.created).toMatchObject({
        kty: expect.stringContaining('RSA'),
        name: 'py-key',
        enabled: true,
        ops: ['decrypt', 'encrypt', 'sign', 'unwrapKey', 'verify', 'wrapKey'],
      });
      expect(String((out.created as { version: string }).version)).toMatch(/^[0-9a-f]{32}$/);
      expect(out.sameModulus).toBe(true);
      expect(String(out.wrapKid)).toContain(`${vault.url}/keys/py-key/`);
      expect(out.roundTrip).toBe(true);
    });

    it("unwraps a data key Coffer's key source wrapped", () => {
      expect(out.cofferDataKey).toBe(cofferDataKey.toString('hex'));
    });

    it('rotates to a new version, pages through versions, and keeps old versions unwrapping', () => {
      expect(out.rotatedVersion).not.toBe((out.created as { version: string }).version);
      expect(out.versionPages).toBe(2);
      expect((out.versions as string[]).length).toBe(2);
      expect(out.oldStillUnwraps).toBe(true);
    });

    it('answers a disabled version with 403 KeyDisabled, a missing key with 404 and a bad wrap with 400', () => {
      expect(out.disabledError).toMatchObject({ status: 403, code: 'Forbidden', inner: 'KeyDisabled' });
      expect(out.missingError).toMatchObject({ status: 404, code: 'KeyNotFound' });
      expect(out.garbageError).toMatchObject({ status: 400, code: 'BadParameter' });
    });

    it('lets an encryption user wrap and unwrap but not rotate or create; a wrong secret gets AADSTS7000215', () => {
      expect(out.readerUnwraps).toBe(true);
      expect(out.readerRotateError).toMatchObject({
        status: 403,
        code: 'Forbidden',
        inner: 'ForbiddenByRbac',
      });
      expect(out.readerCreateError).toMatchObject({ status: 403, inner: 'ForbiddenByRbac' });
      const wrong = out.wrongSecretError as ErrorSeen;
      expect(wrong.type).toBe('ClientAuthenticationError');
      expect(wrong.message).toContain('AADSTS7000215');
    });
  },
);
