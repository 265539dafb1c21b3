import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import { movableClock } from '../identity/test-support/identity-fixture.js';
import { DataKeyCache } from './data-key-cache.js';
import {
  ENVELOPE_MAGIC,
  envelopeKekId,
  envelopeOverhead,
  type Kek,
  openEnvelope,
  openEnvelopeWith,
  rewrapEnvelope,
  sealEnvelope,
} from './envelope.js';

const kek: Kek = { id: 'k-20261123-0a1b2c3d', key: randomBytes(32) };
const other: Kek = { id: 'k-20261124-ffeeddcc', key: randomBytes(32) };
const binding = { secretId: '6f1c2a9e-3b7d-4e2a-9c1f-5d8e7a6b4c3d', version: 3 };

function caught(fn: () => unknown): CofferError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    return err as CofferError;
  }
  throw new Error('expected an error, but the call returned');
}

describe('envelope', () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['unicode', Buffer.from('pässwörd 🔑 密码 \u0000 end', 'utf8')],
    ['1 MiB', randomBytes(1024 * 1024)],
  ])('round-trips %s plaintext', (_name, plaintext) => {
    const blob = sealEnvelope(plaintext, binding, kek);
    expect(blob.length).toBe(plaintext.length + envelopeOverhead(kek.id.length));
    expect(openEnvelope(blob, binding, kek).equals(plaintext)).toBe(true);
  });

  it('draws a fresh data key and IVs for every seal', () => {
    const plaintext = Buffer.from('same input');
    const a = sealEnvelope(plaintext, binding, kek);
    const b = sealEnvelope(plaintext, binding, kek);
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(-plaintext.length).equals(b.subarray(-plaintext.length))).toBe(false);
  });

  it('starts with the magic and the key id, readable without the key', () => {
    const blob = sealEnvelope(Buffer.from('x'), binding, kek);
    expect(blob.subarray(0, 4).equals(ENVELOPE_MAGIC)).toBe(true);
    expect(blob[4]).toBe(1);
    expect(envelopeKekId(blob)).toBe(kek.id);
    expect(envelopeKekId(new Uint8Array(blob))).toBe(kek.id);
  });

  it.each([
    ['another secret id', { ...binding, secretId: '00000000-0000-4000-8000-000000000000' }],
    ['another version', { ...binding, version: 4 }],
  ])('refuses to open a blob under %s', (_name, wrong) => {
    const blob = sealEnvelope(Buffer.from('value'), binding, kek);
    const err = caught(() => openEnvelope(blob, wrong, kek));
    expect(err.code).toBe('integrity');
    expect(err.message).toContain(wrong.secretId);
    expect(err.message).toContain(`version ${wrong.version}`);
    expect(err.message).toContain(kek.id);
  });

  it('refuses a key with the same id but other bytes, naming the id', () => {
    const blob = sealEnvelope(Buffer.from('value'), binding, kek);
    const impostor: Kek = { id: kek.id, key: randomBytes(32) };
    const err = caught(() => openEnvelope(blob, binding, impostor));
    expect(err.code).toBe('integrity');
    expect(err.message).toContain(kek.id);
    expect(err.details).toMatchObject({ kekId: kek.id, secretId: binding.secretId, version: 3 });
  });

  it('refuses to open with a key other than the one in the header', () => {
    const blob = sealEnvelope(Buffer.from('value'), binding, kek);
    expect(caught(() => openEnvelope(blob, binding, other)).code).toBe('integrity');
  });

  it('treats non-binary input as corrupt data', () => {
    expect(caught(() => envelopeKekId('CFKR' as unknown as Buffer)).code).toBe('integrity');
    expect(caught(() => openEnvelope(null as unknown as Buffer, binding, kek)).code).toBe('integrity');
  });

  it('refuses an invalid binding before doing anything', () => {
    const blob = sealEnvelope(Buffer.from('value'), binding, kek);
    for (const bad of [
      { secretId: '', version: 1 },
      { secretId: 'x', version: -1 },
      { secretId: 'x', version: 1.5 },
    ]) {
      expect(caught(() => openEnvelope(blob, bad, kek)).code).toBe('validation');
      expect(caught(() => sealEnvelope(Buffer.from('v'), bad, kek)).code).toBe('validation');
    }
  });

  describe('rewrap', () => {
    it('moves the data key to another KEK and leaves the ciphertext bytes alone', () => {
      const plaintext = Buffer.from('{"password":"hunter2-but-longer"}');
      const blob = sealEnvelope(plaintext, binding, kek);
      const moved = rewrapEnvelope(blob, binding, kek, other);
      expect(envelopeKekId(moved)).toBe(other.id);
      // Data IV, data tag and ciphertext are the tail of the blob.
      const tail = 12 + 16 + plaintext.length;
      expect(moved.subarray(-tail).equals(blob.subarray(-tail))).toBe(true);
      expect(openEnvelope(moved, binding, other).equals(plaintext)).toBe(true);
      expect(caught(() => openEnvelope(moved, binding, kek)).code).toBe('integrity');
    });

    it('refuses to rewrap under a wrong binding or a wrong old key', () => {
      const blob = sealEnvelope(Buffer.from('value'), binding, kek);
      expect(caught(() => rewrapEnvelope(blob, { ...binding, version: 9 }, kek, other)).code).toBe(
        'integrity',
      );
      const impostor: Kek = { id: kek.id, key: randomBytes(32) };
      expect(caught(() => rewrapEnvelope(blob, binding, impostor, other)).code).toBe('integrity');
    });
  });

  it('unwraps a data key once with a cache, and again for a changed wrap or another binding', () => {
    const dataKeys = new DataKeyCache({ maxEntries: 10, ttlSeconds: 60 }, movableClock().clock);
    const lookups: string[] = [];
    const keyFor = (id: string) => {
      lookups.push(id);
      return kek;
    };
    const plaintext = Buffer.from('{"password":"cached"}');
    const blob = sealEnvelope(plaintext, binding, kek);
    for (let i = 0; i < 3; i++) {
      expect(openEnvelopeWith(blob, binding, keyFor, dataKeys).equals(plaintext)).toBe(true);
    }
    // The key was needed for the first open only: the next two used the cached data key.
    expect(lookups).toEqual([kek.id]);
    // The same data under a re-wrap is another entry, unwrapped once more.
    const rewrapped = rewrapEnvelope(blob, binding, kek, kek);
    expect(openEnvelopeWith(rewrapped, binding, keyFor, dataKeys).equals(plaintext)).toBe(true);
    expect(lookups).toHaveLength(2);
    // Another binding never meets the cached key: it unwraps, and the wrap refuses it.
    const elsewhere = { ...binding, version: binding.version + 1 };
    expect(caught(() => openEnvelopeWith(blob, elsewhere, keyFor, dataKeys)).code).toBe('integrity');
    expect(lookups).toHaveLength(3);
    // Without a cache every open unwraps.
    openEnvelopeWith(blob, binding, keyFor);
    openEnvelopeWith(blob, binding, keyFor);
    expect(lookups).toHaveLength(5);
  });

  it('never puts plaintext or key material into an error', () => {
    const planted = 'PLANTED-SECRET-7c1e9b';
    const blob = sealEnvelope(Buffer.from(planted), binding, kek);
    const impostor: Kek = { id: kek.id, key: randomBytes(32) };
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 1;
    const errors = [
      caught(() => openEnvelope(blob, { ...binding, version: 4 }, kek)),
      caught(() => openEnvelope(blob, binding, impostor)),
      caught(() => openEnvelope(tampered, binding, kek)),
      caught(() => openEnvelope(blob.subarray(0, 50), binding, kek)),
    ];
    const forbidden = [
      planted,
      ...[kek.key, impostor.key].flatMap((k) => [k.toString('base64'), k.toString('hex')]),
    ];
    for (const err of errors) {
      const text = `${err.message} ${JSON.stringify(err.details)} ${String(err.cause ?? '')}`;
      for (const f of forbidden) expect(text).not.toContain(f);
    }
  });
});
