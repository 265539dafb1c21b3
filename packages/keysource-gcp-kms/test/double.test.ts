import { crc32c } from '@coffer/keysource-gcp-kms';
import { cloudKmsLimits } from '@coffer/keysource-gcp-kms/double';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsDouble, rejectionOf } from './support.js';

// The double as Google's SDK sees it: Cloud KMS's methods, version states, errors and quotas.
type Double = Awaited<ReturnType<typeof kmsDouble>>;

function clientOf(kms: Double): KeyManagementServiceClient {
  const url = new URL(kms.url);
  return new KeyManagementServiceClient({
    fallback: 'rest',
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    projectId: 'coffer-double',
  });
}

/** The canonical status of a google-gax REST error (its message is the google.rpc.Status JSON). */
function statusOf(err: Error): string | undefined {
  try {
    return (JSON.parse(err.message) as { error?: { status?: string } }).error?.status;
  } catch {
    return undefined;
  }
}

const noRetry = { retry: { retryCodes: [] } };

describe('the Cloud KMS double through the Google Cloud SDK', () => {
  let kms: Double;
  let client: KeyManagementServiceClient;
  const aad = Buffer.from('coffer-secret=s-1');
  const ring = 'projects/coffer-double/locations/global/keyRings/coffer';

  beforeAll(async () => {
    kms = await kmsDouble();
    client = clientOf(kms);
  });
  afterAll(async () => {
    await client?.close();
    await kms?.close();
    kms?.restoreEnv();
  });

  it('makes keys with a first primary version, and refuses a taken id or a bad one', async () => {
    const [key] = await client.createCryptoKey({
      parent: ring,
      cryptoKeyId: 'made',
      cryptoKey: { purpose: 'ENCRYPT_DECRYPT', versionTemplate: { protectionLevel: 'HSM' } },
    });
    expect(key).toMatchObject({
      name: `${ring}/cryptoKeys/made`,
      purpose: 'ENCRYPT_DECRYPT',
      primary: {
        name: `${ring}/cryptoKeys/made/cryptoKeyVersions/1`,
        state: 'ENABLED',
        protectionLevel: 'HSM',
      },
    });
    const [again] = await client.getCryptoKey({ name: key.name! });
    expect(again.primary?.algorithm).toBe('GOOGLE_SYMMETRIC_ENCRYPTION');
    const taken = await rejectionOf(
      client.createCryptoKey({ parent: ring, cryptoKeyId: 'made', cryptoKey: {} }),
    );
    expect(statusOf(taken)).toBe('ALREADY_EXISTS');
    const bad = await rejectionOf(
      client.createCryptoKey({ parent: ring, cryptoKeyId: 'no spaces', cryptoKey: {} }),
    );
    expect(statusOf(bad)).toBe('INVALID_ARGUMENT');
    const [empty] = await client.createCryptoKey({
      parent: ring,
      cryptoKeyId: 'empty',
      cryptoKey: {},
      skipInitialVersionCreation: true,
    });
    expect(empty.primary).toBeNull();
    const noPrimary = await rejectionOf(client.encrypt({ name: empty.name!, plaintext: Buffer.from('x') }));
    expect(statusOf(noPrimary)).toBe('FAILED_PRECONDITION');
  });

  it('encrypts and decrypts only with the same additional authenticated data, checking CRC32C both ways', async () => {
    const plaintext = Buffer.from('a data key, 32 bytes long......!');
    const [out] = await client.encrypt({
      name: kms.keyName,
      plaintext,
      additionalAuthenticatedData: aad,
      plaintextCrc32c: { value: crc32c(plaintext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
    });
    expect(out.name).toBe(`${kms.keyName}/cryptoKeyVersions/1`);
    expect(out.verifiedPlaintextCrc32c).toBe(true);
    expect(out.verifiedAdditionalAuthenticatedDataCrc32c).toBe(true);
    const ciphertext = Buffer.from(out.ciphertext as Uint8Array);
    expect(Number(out.ciphertextCrc32c?.value)).toBe(crc32c(ciphertext));

    const [plain] = await client.decrypt({ name: kms.keyName, ciphertext, additionalAuthenticatedData: aad });
    expect(Buffer.from(plain.plaintext as Uint8Array).equals(plaintext)).toBe(true);
    expect(plain.usedPrimary).toBe(true);
    expect(Number(plain.plaintextCrc32c?.value)).toBe(crc32c(plaintext));

    for (const wrong of [Buffer.alloc(0), Buffer.from('coffer-secret=s-2')]) {
      const err = await rejectionOf(
        client.decrypt({ name: kms.keyName, ciphertext, additionalAuthenticatedData: wrong }),
      );
      expect(statusOf(err)).toBe('INVALID_ARGUMENT');
    }
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 1]! ^= 1;
    const err = await rejectionOf(
      client.decrypt({ name: kms.keyName, ciphertext: tampered, additionalAuthenticatedData: aad }),
    );
    expect(statusOf(err)).toBe('INVALID_ARGUMENT');
    const badCrc = await rejectionOf(
      client.encrypt({ name: kms.keyName, plaintext, plaintextCrc32c: { value: crc32c(plaintext) ^ 1 } }),
    );
    expect(statusOf(badCrc)).toBe('INVALID_ARGUMENT');
    const tooLarge = await rejectionOf(
      client.encrypt({ name: kms.keyName, plaintext: Buffer.alloc(cloudKmsLimits.maxPlaintextBytes + 1) }),
    );
    expect(statusOf(tooLarge)).toBe('INVALID_ARGUMENT');

    // a ciphertext of one key never decrypts on another
    const [other] = await client.createCryptoKey({ parent: ring, cryptoKeyId: 'other', cryptoKey: {} });
    const elsewhere = await rejectionOf(
      client.decrypt({ name: other.name!, ciphertext, additionalAuthenticatedData: aad }),
    );
    expect(statusOf(elsewhere)).toBe('INVALID_ARGUMENT');
  });

  it('rotates by a new primary version; old versions decrypt until disabled or destroyed', async () => {
    const [key] = await client.createCryptoKey({ parent: ring, cryptoKeyId: 'rotating', cryptoKey: {} });
    const [first] = await client.encrypt({ name: key.name!, plaintext: Buffer.from('one') });
    const [v2] = await client.createCryptoKeyVersion({ parent: key.name!, cryptoKeyVersion: {} });
    expect(v2).toMatchObject({ name: `${key.name}/cryptoKeyVersions/2`, state: 'ENABLED' });
    const [updated] = await client.updateCryptoKeyPrimaryVersion({
      name: key.name!,
      cryptoKeyVersionId: '2',
    });
    expect(updated.primary?.name).toBe(v2.name);
    const [second] = await client.encrypt({ name: key.name!, plaintext: Buffer.from('two') });
    expect(second.name).toBe(v2.name);

    const [old] = await client.decrypt({ name: key.name!, ciphertext: first.ciphertext });
    expect(Buffer.from(old.plaintext as Uint8Array).toString()).toBe('one');
    expect(old.usedPrimary).toBe(false);

    const [page] = await client.listCryptoKeyVersions(
      { parent: key.name!, pageSize: 1 },
      { autoPaginate: false },
    );
    expect(page.map((v) => v.name)).toEqual([`${key.name}/cryptoKeyVersions/1`]);
    const all = await client.listCryptoKeyVersions({ parent: key.name! });
    expect(all[0].map((v) => v.name)).toHaveLength(2);

    const v1 = `${key.name}/cryptoKeyVersions/1`;
    const [disabled] = await client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: v1, state: 'DISABLED' },
      updateMask: { paths: ['state'] },
    });
    expect(disabled.state).toBe('DISABLED');
    const refused = await rejectionOf(client.decrypt({ name: key.name!, ciphertext: first.ciphertext }));
    expect(statusOf(refused)).toBe('FAILED_PRECONDITION');
    const notPrimary = await rejectionOf(
      client.updateCryptoKeyPrimaryVersion({ name: key.name!, cryptoKeyVersionId: '1' }),
    );
    expect(statusOf(notPrimary)).toBe('FAILED_PRECONDITION');

    const [scheduled] = await client.destroyCryptoKeyVersion({ name: v1 });
    expect(scheduled.state).toBe('DESTROY_SCHEDULED');
    expect(scheduled.destroyTime).toBeTruthy();
    kms.faults.store.destroyNow(key.name!, 1);
    const [gone] = await client.getCryptoKeyVersion({ name: v1 });
    expect(gone.state).toBe('DESTROYED');
    const missing = await rejectionOf(
      client.getCryptoKeyVersion({ name: `${key.name}/cryptoKeyVersions/9` }),
    );
    expect(statusOf(missing)).toBe('NOT_FOUND');
  });

  it('refuses requests without a valid token, and outside its project', async () => {
    const url = new URL(kms.url);
    const anonymous = await fetch(`${url.origin}/v1/${kms.keyName}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    const elsewhere = await rejectionOf(
      client.getCryptoKey({ name: kms.keyName.replace('coffer-double', 'someone-else') }),
    );
    expect(statusOf(elsewhere)).toBe('PERMISSION_DENIED');
  });
});

describe('the Cloud KMS double with its quotas on', () => {
  let kms: Double;
  let client: KeyManagementServiceClient;

  beforeAll(async () => {
    kms = await kmsDouble({ throttle: { readPerMinute: 3 } });
    client = clientOf(kms);
  });
  afterAll(async () => {
    await client?.close();
    await kms?.close();
    kms?.restoreEnv();
  });

  it('answers RESOURCE_EXHAUSTED with a RetryInfo once the read quota is spent, and encrypts on', async () => {
    for (let i = 0; i < 3; i++) await client.getCryptoKey({ name: kms.keyName }, noRetry);
    const err = await rejectionOf(client.getCryptoKey({ name: kms.keyName }, noRetry));
    expect(statusOf(err)).toBe('RESOURCE_EXHAUSTED');
    const body = JSON.parse(err.message) as { error: { details: { retryDelay?: string }[] } };
    expect(body.error.details.some((d) => /^[0-9]+s$/.test(d.retryDelay ?? ''))).toBe(true);
    // cryptographic requests have their own, larger quota
    await client.encrypt({ name: kms.keyName, plaintext: Buffer.from('x') }, noRetry);
  });
});
