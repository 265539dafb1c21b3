import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/**
 * How a link's sealing key is derived, stored with the link so the parameters can change later
 * without breaking links already made. A salt is no secret; the key and passphrase never appear.
 */
export type ShareLinkKdf =
  | { name: 'hkdf-sha256' }
  | { name: 'scrypt+hkdf-sha256'; N: number; r: number; p: number; salt: string };

/**
 * scrypt's cost for passphrases: 32 MiB and about 0.1 s per try. The passphrase only guards a
 * copy that also needs the 256-bit link key, so this slows guessing by whoever holds both the
 * stolen database and the link; online guesses are throttled and burn the link after a few.
 */
export const passphraseCost: PassphraseCost = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

/** scrypt's parameters: `N` (a power of two), `r` and `p`. */
export interface PassphraseCost {
  N: number;
  r: number;
  p: number;
}

const version = 1;
const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;

/** A fresh random link key: 256 bits, the part of the link after `#`. */
export function newLinkKey(): Buffer {
  return randomBytes(keyBytes);
}

/** The key as it appears in a link: base64url, 43 characters. */
export function encodeLinkKey(key: Buffer): string {
  return key.toString('base64url');
}

/** The key of a link's fragment, or undefined when it is not one (wrong length or alphabet). */
export function decodeLinkKey(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64url');
  return key.length === keyBytes ? key : undefined;
}

function derive(ikm: Buffer, linkId: string, purpose: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', ikm, Buffer.from(linkId, 'utf8'), `coffer share-link v${version}: ${purpose}`, 32),
  );
}

/**
 * A one-way check value of the link key (HKDF with its own label, so it says nothing about the
 * sealing key): it tells a wrong key from a wrong passphrase, and spares scrypt for wrong keys.
 */
export function keyCheckOf(key: Buffer, linkId: string): string {
  return derive(key, linkId, 'key check').toString('hex');
}

/** Whether `key` is the key whose check value is `check`, in constant time. */
export function keyMatches(key: Buffer, linkId: string, check: string): boolean {
  const expected = Buffer.from(check, 'hex');
  const actual = derive(key, linkId, 'key check');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A new derivation for a link: plain HKDF, or scrypt over the passphrase with a fresh salt. */
export function newKdf(withPassphrase: boolean, cost: PassphraseCost = passphraseCost): ShareLinkKdf {
  return withPassphrase
    ? {
        name: 'scrypt+hkdf-sha256',
        N: cost.N,
        r: cost.r,
        p: cost.p,
        salt: randomBytes(16).toString('base64url'),
      }
    : { name: 'hkdf-sha256' };
}

/**
 * The AES-256 key that seals a link's copy: HKDF over the link key, and with a passphrase over
 * the link key and scrypt(passphrase), so neither alone (nor the database) opens the copy.
 */
export async function sealingKey(
  key: Buffer,
  linkId: string,
  kdf: ShareLinkKdf,
  passphrase: string | undefined,
): Promise<Buffer> {
  if (kdf.name === 'hkdf-sha256') return derive(key, linkId, 'seal');
  const stretched = await scrypt(
    (passphrase ?? '').normalize('NFC'),
    Buffer.from(kdf.salt, 'base64url'),
    32,
    {
      N: kdf.N,
      r: kdf.r,
      p: kdf.p,
      maxmem: 256 * kdf.N * kdf.r * kdf.p,
    },
  );
  const ikm = Buffer.concat([key, stretched]);
  try {
    return derive(ikm, linkId, 'seal with passphrase');
  } finally {
    stretched.fill(0);
    ikm.fill(0);
  }
}

/** What the sealed copy is bound to: a copy moved to another link or secret does not open. */
function associatedData(linkId: string, secretId: string): Buffer {
  return Buffer.from(`coffer share-link v${version}\n${linkId}\n${secretId}`, 'utf8');
}

/** Seals the shared values: `version | iv | ciphertext | tag`, AES-256-GCM. */
export function sealCopy(sealKey: Buffer, linkId: string, secretId: string, plaintext: Buffer): Buffer {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
  cipher.setAAD(associatedData(linkId, secretId));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([version]), iv, body, cipher.getAuthTag()]);
}

/** Opens a sealed copy; undefined when the key does not open it (wrong passphrase, or tampering). */
export function openCopy(
  sealKey: Buffer,
  linkId: string,
  secretId: string,
  sealed: Buffer,
): Buffer | undefined {
  if (sealed.length < 1 + ivBytes + tagBytes || sealed[0] !== version) return undefined;
  const iv = sealed.subarray(1, 1 + ivBytes);
  const tag = sealed.subarray(sealed.length - tagBytes);
  const body = sealed.subarray(1 + ivBytes, sealed.length - tagBytes);
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey, iv);
    decipher.setAAD(associatedData(linkId, secretId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Parses a stored derivation; undefined for one this version does not know. */
export function parseKdf(text: string): ShareLinkKdf | undefined {
  try {
    const kdf = JSON.parse(text) as Partial<ShareLinkKdf> & Record<string, unknown>;
    if (kdf.name === 'hkdf-sha256') return { name: 'hkdf-sha256' };
    if (
      kdf.name === 'scrypt+hkdf-sha256' &&
      [kdf.N, kdf.r, kdf.p].every((n) => Number.isInteger(n) && (n as number) > 0) &&
      typeof kdf.salt === 'string'
    ) {
      return { name: kdf.name, N: kdf.N as number, r: kdf.r as number, p: kdf.p as number, salt: kdf.salt };
    }
  } catch {
    // falls through: unknown
  }
  return undefined;
}
