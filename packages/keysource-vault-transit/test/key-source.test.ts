import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeySourceDefinition, openKeySource, parseKeySourceConfig, silentLogger } from '@coffer/core';
import vaultTransit, {
  bindContext,
  createVaultTransitKeySource,
  openBound,
  vaultTransitConfigSchema,
  versionOf,
} from '@coffer/keysource-vault-transit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn, keySourceDefinitions, rejectionOf, transitDouble, transitSource } from './support.js';

// The key source alone against the Vault double: wrap, unwrap, re-wrap and rotate through Transit,
// the context binding, and what each Vault failure becomes.
const quiet = { logger: silentLogger(), clock: () => new Date() };
const context = { 'coffer-deployment': 'd-1', 'coffer-secret': 's-1', 'coffer-version': '1' };

/** Vault's own words the double answers with; none may reach a Coffer error. */
const vaultWords = [
  '1 error occurred',
  'encryption key not found',
  'message authentication failed',
  'disallowed by policy',
  'Vault is sealed',
  'errors',
];

describe('the vault-transit key source', () => {
  let vault: Awaited<ReturnType<typeof transitDouble>>;
  let source: ReturnType<typeof transitSource>;

  beforeAll(async () => {
    vault = await transitDouble();
    source = transitSource(vault);
  });
  afterAll(async () => {
    await source?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('wraps, unwraps and re-wraps under the context, naming the key version from vault:v<n>:', async () => {
    const current = await source.current();
    expect(current).toEqual({ keyId: 'transit/keys/coffer', keyVersion: '1' });
    expect(source.configuredKey).toBe('transit/keys/coffer');
    expect(source.description).toBe(`Vault Transit key transit/keys/coffer at ${vault.url}`);

    const { dataKey, wrapped } = await source.generateDataKey(current, context);
    expect(dataKey.length).toBe(32);
    expect(wrapped.keyId).toBe('transit/keys/coffer');
    expect(wrapped.keyVersion).toBe('1');
    expect(wrapped.ciphertext.toString('utf8')).toMatch(/^vault:v1:[A-Za-z0-9+/=]+$/);
    expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);

    // Another secret, version or deployment: Transit opens it, Coffer's binding refuses it.
    for (const other of [
      { ...context, 'coffer-version': '2' },
      { ...context, 'coffer-secret': 's-2' },
      { ...context, 'coffer-deployment': 'd-2' },
    ]) {
      const wrong = await rejectionOf(source.unwrap(wrapped, other));
      expect(wrong.code).toBe('integrity');
      expect(wrong.details).toMatchObject({ keyId: 'transit/keys/coffer', vendorCode: 'context_mismatch' });
    }

    // A ciphertext changed in Vault's own part does not decrypt: integrity, not an outage.
    const text = wrapped.ciphertext.toString('utf8');
    const body = Buffer.from(text.slice('vault:v1:'.length), 'base64');
    body[20]! ^= 0x01;
    const tampered = { ...wrapped, ciphertext: Buffer.from(`vault:v1:${body.toString('base64')}`) };
    const damaged = await rejectionOf(source.unwrap(tampered, context));
    expect(damaged.code).toBe('integrity');
    expect(damaged.details).toMatchObject({ vendorCode: 'invalid_ciphertext' });
    expect(
      (await rejectionOf(source.unwrap({ ...wrapped, ciphertext: Buffer.from('garbage') }, context))).code,
    ).toBe('integrity');

    const rotated = await source.rotate();
    expect(rotated).toEqual({ keyId: 'transit/keys/coffer', keyVersion: '2' });
    const moved = await source.rewrap(wrapped, context, rotated);
    expect(moved.keyVersion).toBe('2');
    expect(moved.ciphertext.toString('utf8')).toMatch(/^vault:v2:/);
    expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
    // New data keys are wrapped by the newest version.
    expect((await source.generateDataKey(rotated, context)).wrapped.keyVersion).toBe('2');

    // min_decryption_version: what is older cannot be unwrapped any more, and says why.
    vault.faults.transit().configure('coffer', { min_decryption_version: 2 });
    const old = await rejectionOf(source.unwrap(wrapped, context));
    expect(old).toMatchObject({
      code: 'key_unavailable',
      details: { reason: 'key_disabled', vendorCode: 'key_version_too_old', keyId: 'transit/keys/coffer' },
    });
    expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
    for (const word of vaultWords) expect(everythingIn(old)).not.toContain(word);
  });

  it('moves a data key to another Transit key by unwrapping and wrapping, never through rewrap/', async () => {
    vault.faults.transit().createKey('coffer-next', {});
    const next = transitSource(vault, { keyName: 'coffer-next' });
    try {
      const from = await source.current();
      const { dataKey, wrapped } = await source.generateDataKey(from, context);
      const to = await next.current();
      expect(to).toEqual({ keyId: 'transit/keys/coffer-next', keyVersion: '1' });
      vault.faults.resetCounts();
      const moved = await next.rewrap(wrapped, context, to);
      expect(moved.keyId).toBe('transit/keys/coffer-next');
      expect(vault.faults.requestCount('transit.rewrap')).toBe(0);
      // Either source opens either key: a blob names the key that wrapped it.
      expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
      expect((await next.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
    } finally {
      await next.close();
    }
  });

  it('turns each Vault failure into key_unavailable with a reason, never quoting Vault', async () => {
    const current = await source.current();
    const { wrapped } = await source.generateDataKey(current, context);

    vault.faults.inject({ kind: 'status', status: 500 }, { operation: 'transit.decrypt' });
    expect((await source.unwrap(wrapped, context)).length).toBe(32); // retried

    vault.faults.inject(
      { kind: 'status', status: 429, retryAfterSeconds: 0 },
      { count: 2, operation: 'transit.decrypt' },
    );
    const throttled = await rejectionOf(source.unwrap(wrapped, context));
    expect(throttled).toMatchObject({
      code: 'key_unavailable',
      details: { reason: 'throttled', attempts: 2 },
    });

    vault.faults.inject({ kind: 'delay', ms: 1_500 }, { count: 2, operation: 'transit.decrypt' });
    expect((await rejectionOf(source.unwrap(wrapped, context))).details.reason).toBe('timeout');
    vault.faults.clear();

    vault.faults.seal();
    try {
      const sealed = await rejectionOf(source.unwrap(wrapped, context));
      expect(sealed.details).toMatchObject({ reason: 'server_error', vendorCode: 'sealed', attempts: 2 });
      for (const word of vaultWords) expect(everythingIn(sealed)).not.toContain(word);
    } finally {
      vault.faults.unseal();
    }

    // The read-only token may decrypt but not encrypt: permission, not credentials.
    const readOnly = transitSource(vault, {}, { VAULT_TOKEN: vault.faults.tokens.readOnly });
    try {
      expect((await readOnly.unwrap(wrapped, context)).length).toBe(32);
      const denied = await rejectionOf(readOnly.generateDataKey(current, context));
      expect(denied).toMatchObject({
        code: 'key_unavailable',
        details: { reason: 'permission_denied', vendorCode: '403', keyId: 'transit/keys/coffer' },
      });
      for (const word of vaultWords) expect(everythingIn(denied)).not.toContain(word);
    } finally {
      await readOnly.close();
    }
    const unknown = transitSource(vault, {}, { VAULT_TOKEN: 'hvs.not-a-token' });
    expect((await rejectionOf(unknown.current())).details.reason).toBe('unauthenticated');
    await unknown.close();
    const none = transitSource(vault, {}, {});
    expect((await rejectionOf(none.current())).details).toMatchObject({
      reason: 'unauthenticated',
      vendorCode: 'no_token',
    });
    await none.close();

    const missing = transitSource(vault, { keyName: 'missing' });
    const notFound = await rejectionOf(missing.current());
    expect(notFound.details).toMatchObject({ reason: 'key_not_found', keyId: 'transit/keys/missing' });
    expect(notFound.message).toContain('KMS key transit/keys/missing could not be used');
    expect(
      (await rejectionOf(missing.unwrap({ ...wrapped, keyId: 'transit/keys/missing' }, context))).details
        .reason,
    ).toBe('key_not_found');
    await missing.close();

    const unreachable = transitSource(vault, { address: 'http://127.0.0.1:9' });
    expect((await rejectionOf(unreachable.current())).details.reason).toBe('unreachable');
    await unreachable.close();
  });

  it('logs in with AppRole and works inside a namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-transit-'));
    try {
      const { roleId, secretId } = vault.faults.createAppRole('keyring', {
        policies: ['coffer-rw'],
        tokenTtl: 60,
        tokenMaxTtl: 120,
      });
      const secretIdFile = join(dir, 'secret-id');
      writeFileSync(secretIdFile, `${secretId}\n`, { mode: 0o600 });
      const approle = transitSource(vault, { auth: { method: 'approle', roleId, secretIdFile } }, {});
      try {
        vault.faults.resetCounts();
        const { dataKey, wrapped } = await approle.generateDataKey(await approle.current(), context);
        expect((await approle.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        expect(vault.faults.requestCount('auth.approle.login')).toBe(1);
      } finally {
        await approle.close();
      }

      const namespace = vault.faults.createNamespace('team-a');
      vault.faults.transit('transit', namespace).createKey('coffer', {});
      const token = vault.faults.createToken({ policies: ['coffer-rw'], ttl: 0, namespace });
      const scoped = transitSource(vault, { namespace }, { VAULT_TOKEN: token });
      try {
        const key = await scoped.current();
        expect(key.keyId).toBe('team-a/transit/keys/coffer');
        const { dataKey, wrapped } = await scoped.generateDataKey(key, context);
        expect((await scoped.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        // a key of the root namespace is another key, whatever its name
        expect(
          (await rejectionOf(source.unwrap({ ...wrapped, keyId: 'transit/keys/coffer-next' }, context))).code,
        ).toBe('integrity');
      } finally {
        await scoped.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates its settings, naming each, and loads by type from its package', async () => {
    const err = await rejectionOf(
      openKeySource(
        parseKeySourceConfig({ source: 'vault-transit', keyName: 'has space', mount: '/abs', extra: 1 }),
        { definitions: keySourceDefinitions },
      ),
    );
    expect(err.code).toBe('invalid_config');
    const issues = (err.details.issues as { path: string }[]).map((i) => i.path).sort();
    expect(issues).toEqual(['keyring', 'keyring.keyName', 'keyring.mount']);
    expect(vaultTransitConfigSchema.parse({ keyName: 'coffer' })).toMatchObject({
      mount: 'transit',
      auth: { method: 'token', tokenEnv: 'VAULT_TOKEN' },
      maxAttempts: 4,
      requestTimeoutMs: 5000,
    });
    const noAddress = (() => {
      try {
        createVaultTransitKeySource(vaultTransitConfigSchema.parse({ keyName: 'coffer' }), quiet, {});
      } catch (e) {
        return e as { code: string; details: { issues: { path: string }[] } };
      }
      throw new Error('expected no address to be refused');
    })();
    expect(noAddress.code).toBe('invalid_config');
    expect(noAddress.details.issues.map((i) => i.path)).toEqual(['keyring.address']);
    const fromEnv = createVaultTransitKeySource(
      vaultTransitConfigSchema.parse({ keyName: 'coffer' }),
      quiet,
      {
        VAULT_ADDR: vault.url,
        VAULT_NAMESPACE: 'team-a',
      },
    );
    expect(fromEnv.configuredKey).toBe('team-a/transit/keys/coffer');
    await fromEnv.close();

    const loaded = await loadKeySourceDefinition('vault-transit');
    expect(loaded.id).toBe(vaultTransit.id);
    expect(loaded.displayName).toBe('HashiCorp Vault Transit');
  });

  it('binds and reads back the context digest, and reads key versions from ciphertexts', () => {
    const key = Buffer.alloc(32, 7);
    const bound = bindContext(key, context);
    expect(bound.length).toBe(64);
    // the order of the context's entries does not matter
    const reordered = { 'coffer-version': '1', 'coffer-secret': 's-1', 'coffer-deployment': 'd-1' };
    expect(openBound(Buffer.from(bound), reordered)?.equals(key)).toBe(true);
    expect(openBound(Buffer.from(bound), { ...context, 'coffer-version': '10' })).toBeUndefined();
    expect(openBound(bound.subarray(0, 40), context)).toBeUndefined();
    expect(versionOf('vault:v12:abcd')).toBe('12');
    expect(versionOf('vault:v0:abcd')).toBeUndefined();
    expect(versionOf('vault:12:abcd')).toBeUndefined();
  });
});
