import {
  type ExternalKeySource,
  loadKeySourceDefinition,
  openKeySource,
  parseKeySourceConfig,
  silentLogger,
} from '@coffer/core';
import azureKeyVault, {
  AzureKeyVaultKeySource,
  azureKeyVaultKeysConfigSchema,
  contextTag,
  createKeyVaultClients,
  decodeWrapped,
  encodeWrapped,
} from '@coffer/keysource-azure-key-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn, keySourceDefinitions, rejectionOf, useEnv, vaultDouble } from './support.js';

// The key source alone against the double: the context binding, and what each Key Vault failure becomes.
const context = { 'coffer-deployment': 'd-1', 'coffer-secret': 's-1', 'coffer-version': '1' };

describe('the azure-key-vault key source', () => {
  let vault: Awaited<ReturnType<typeof vaultDouble>>;
  let source: ExternalKeySource;

  const sourceWith = (settings: Record<string, unknown> = {}) => {
    const config = azureKeyVaultKeysConfigSchema.parse({
      ...vault.settings,
      maxAttempts: 2,
      // RSA key generation (create, rotate) takes the double a while on a busy machine
      requestTimeoutMs: 5_000,
      ...settings,
    });
    return new AzureKeyVaultKeySource(createKeyVaultClients(config), config, {
      logger: silentLogger(),
      clock: () => new Date(),
    });
  };

  /** Runs `fn` with DefaultAzureCredential pointed at another identity of the double. */
  const asIdentity = async <T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> => {
    const restore = useEnv(env);
    try {
      return await fn();
    } finally {
      restore();
      useEnv(vault.env);
    }
  };

  beforeAll(async () => {
    vault = await vaultDouble();
    source = sourceWith();
  });
  afterAll(async () => {
    await source?.close?.();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('wraps and unwraps with RSA-OAEP-256, only under the context the data key was bound to', async () => {
    const current = await source.current();
    const [first] = vault.faults.store.versionsOf('coffer');
    expect(current).toEqual({ keyId: vault.keyId, keyVersion: first });
    const { dataKey, wrapped } = await source.generateDataKey(current, context);
    expect(dataKey.length).toBe(32);
    expect(wrapped).toMatchObject({ keyId: vault.keyId, keyVersion: first });
    const parts = decodeWrapped(wrapped.ciphertext)!;
    expect(parts.rsaWrap.length).toBe(256); // RSA 2048
    expect(parts.tag.equals(contextTag(dataKey, context))).toBe(true);
    expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
    // the same context in another key order binds the same
    expect(
      (await source.unwrap(wrapped, Object.fromEntries(Object.entries(context).reverse()))).equals(dataKey),
    ).toBe(true);

    for (const other of [
      { ...context, 'coffer-version': '2' },
      { ...context, 'coffer-deployment': 'd-2' },
      {},
    ]) {
      const wrong = await rejectionOf(source.unwrap(wrapped, other));
      expect(wrong.code).toBe('integrity');
      expect(wrong.details).toMatchObject({ keyId: vault.keyId, vendorCode: 'ContextMismatch' });
    }
    // a tag made for another context without the data key is refused the same way
    const forged = encodeWrapped(
      parts.rsaWrap,
      contextTag(Buffer.alloc(32), { ...context, 'coffer-version': '2' }),
    );
    expect(
      (
        await rejectionOf(
          source.unwrap({ ...wrapped, ciphertext: forged }, { ...context, 'coffer-version': '2' }),
        )
      ).code,
    ).toBe('integrity');
    // not this key source's shape at all
    const garbage = await rejectionOf(
      source.unwrap({ ...wrapped, ciphertext: Buffer.from('nope') }, context),
    );
    expect(garbage.details).toMatchObject({ vendorCode: 'MalformedWrap' });
  });

  it('rotates to a new key version, re-wraps onto it, and keeps unwrapping old versions', async () => {
    const current = await source.current();
    const { dataKey, wrapped } = await source.generateDataKey(current, context);
    const rotated = await source.rotate!();
    expect(rotated.keyId).toBe(vault.keyId);
    expect(rotated.keyVersion).not.toBe(current.keyVersion);
    expect(vault.faults.store.versionsOf('coffer').at(-1)).toBe(rotated.keyVersion);
    const moved = await source.rewrap(wrapped, context, rotated);
    expect(moved.keyVersion).toBe(rotated.keyVersion);
    expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
    expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);

    // a version made elsewhere (a rotation policy, the portal) is taken up without another rotation
    await vault.faults.store.rotateKey('coffer');
    vault.faults.resetCounts();
    const picked = await source.rotate!();
    expect(picked.keyVersion).toBe(vault.faults.store.versionsOf('coffer').at(-1));
    expect(vault.faults.requestCount('RotateKey')).toBe(0);

    // a disabled old version no longer unwraps, and says so
    vault.faults.store.setEnabled('coffer', current.keyVersion!, false);
    const fresh = sourceWith();
    try {
      const disabled = await rejectionOf(fresh.unwrap(wrapped, context));
      expect(disabled).toMatchObject({
        code: 'key_unavailable',
        details: { reason: 'key_disabled', vendorCode: 'KeyDisabled', keyId: vault.keyId },
      });
    } finally {
      vault.faults.store.setEnabled('coffer', current.keyVersion!, true);
      await fresh.close?.();
    }
  });

  it('turns each Key Vault failure into key_unavailable with a reason, never quoting Key Vault', async () => {
    const current = await source.current();
    const { wrapped } = await source.generateDataKey(current, context);

    vault.faults.inject(
      { kind: 'error', status: 500, code: 'InternalServerError' },
      { operation: 'UnwrapKey' },
    );
    expect((await source.unwrap(wrapped, context)).length).toBe(32); // retried

    vault.faults.inject(
      { kind: 'error', status: 429, code: 'Throttled', retryAfterSeconds: 0 },
      { count: 2, operation: 'UnwrapKey' },
    );
    const throttled = await rejectionOf(source.unwrap(wrapped, context));
    expect(throttled).toMatchObject({
      code: 'key_unavailable',
      details: { reason: 'throttled', attempts: 2, vendorCode: 'Throttled' },
    });

    const impatient = sourceWith({ requestTimeoutMs: 300 });
    const impatientKey = await impatient.current();
    vault.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 2, operation: 'WrapKey' });
    expect((await rejectionOf(impatient.generateDataKey(impatientKey, context))).details.reason).toBe(
      'timeout',
    );
    await impatient.close?.();

    vault.faults.inject({ kind: 'drop' }, { count: 2, operation: 'UnwrapKey' });
    expect((await rejectionOf(source.unwrap(wrapped, context))).details.reason).toBe('unreachable');
    vault.faults.clear();

    const missing = sourceWith({ keyName: 'missing' });
    const notFound = await rejectionOf(missing.current());
    expect(notFound.details).toMatchObject({ reason: 'key_not_found', vendorCode: 'KeyNotFound' });
    expect(notFound.message).toContain(`KMS key ${vault.url}/keys/missing could not be used`);
    expect(everythingIn(notFound)).not.toContain('was not found in this key vault');
    await missing.close?.();

    const unreachable = sourceWith({ vaultUrl: 'https://127.0.0.1:9' });
    expect((await rejectionOf(unreachable.current())).details.reason).toBe('unreachable');
    await unreachable.close?.();

    const untrusted = sourceWith({ caCertificatesFile: undefined });
    const tls = await rejectionOf(untrusted.current());
    // without the double's certificate, TLS refuses it: the vault cannot be reached safely
    expect(tls.details).toMatchObject({ reason: 'unreachable', vendorCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await untrusted.close?.();
  });

  it('works as "Key Vault Crypto Service Encryption User"; rotating then is permission_denied; a wrong secret is unauthenticated', async () => {
    await asIdentity(vault.faults.identities.encryptionUser.env, async () => {
      const narrow = sourceWith();
      try {
        const current = await narrow.current();
        const { dataKey, wrapped } = await narrow.generateDataKey(current, context);
        expect((await narrow.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        const denied = await rejectionOf(narrow.rotate!());
        expect(denied).toMatchObject({
          code: 'key_unavailable',
          details: { reason: 'permission_denied', vendorCode: 'ForbiddenByRbac', keyId: vault.keyId },
        });
        expect(everythingIn(denied)).not.toContain('Caller is not authorized');
      } finally {
        await narrow.close?.();
      }
    });
    await asIdentity(vault.faults.identities.wrongSecret.env, async () => {
      const stranger = sourceWith();
      try {
        const refused = await rejectionOf(stranger.current());
        expect(refused.details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'AADSTS7000215' });
        expect(everythingIn(refused)).not.toContain('Invalid client secret');
      } finally {
        await stranger.close?.();
      }
    });
  });

  it('validates its settings, naming each, and loads by type from its package', async () => {
    const err = await rejectionOf(
      openKeySource(
        parseKeySourceConfig({
          source: 'azure-key-vault',
          vaultUrl: 'http://vault.example',
          keyName: 'no spaces',
          caCertificatesFile: 'relative/ca.pem',
        }),
        { definitions: keySourceDefinitions },
      ),
    );
    expect(err.code).toBe('invalid_config');
    const issues = (err.details.issues as { path: string }[]).map((i) => i.path).sort();
    expect(issues).toEqual(['keyring.caCertificatesFile', 'keyring.keyName', 'keyring.vaultUrl']);
    expect(
      azureKeyVaultKeysConfigSchema.parse({ vaultUrl: 'https://acme.vault.azure.net', keyName: 'coffer' }),
    ).toMatchObject({ maxAttempts: 4, requestTimeoutMs: 5000, disableChallengeResourceVerification: false });

    const unreadable = await rejectionOf(
      openKeySource(
        parseKeySourceConfig({
          source: 'azure-key-vault',
          ...vault.settings,
          caCertificatesFile: '/nonexistent/ca.pem',
        }),
        { definitions: keySourceDefinitions },
      ),
    );
    expect(unreadable.code).toBe('invalid_config');
    expect(unreadable.message).toContain('keyring.caCertificatesFile');

    const loaded = await loadKeySourceDefinition('azure-key-vault');
    expect(loaded.id).toBe(azureKeyVault.id);
    expect(loaded.displayName).toBe('Azure Key Vault');
  });
});
