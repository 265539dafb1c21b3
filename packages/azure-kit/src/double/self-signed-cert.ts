import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A self-signed TLS certificate for the double, made with node:crypto alone (no `openssl`
 * binary, no extra package): an ECDSA P-256 key and an X.509 v3 certificate for `127.0.0.1`,
 * `::1` and `localhost`, with the extensions `openssl req -x509` puts on its certificates
 * (basic constraints CA, key usage, subject and authority key ids) plus serverAuth and the
 * subject alternative names, so OpenSSL (Node, Python's ssl) takes it both as the server's
 * certificate and as the trust anchor a client is given.
 */
export interface SelfSignedCertificate {
  /** The certificate, PEM. Give it to clients as the one CA to trust for the double. */
  certPem: string;
  /** The private key, PKCS#8 PEM. */
  keyPem: string;
}

// DER, only the parts a certificate needs
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const boolTrue = () => tlv(0x01, Buffer.from([0xff]));

function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes = [40 * parts[0]! + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const text = `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolTrue()] : []), octets(value));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Makes a fresh key and a certificate valid from an hour ago for `days` days.
 *
 * @example
 * const { certPem, keyPem } = createSelfSignedCertificate();
 * https.createServer({ cert: certPem, key: keyPem }, handler);
 */
export function createSelfSignedCertificate(
  options: { commonName?: string; days?: number } = {},
): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // the key id is the SHA-1 of the public key bits, as RFC 5280 4.2.1.2 (1) describes
  const publicKeyBits = spki.subarray(spki.length - 65);
  const keyId = createHash('sha1').update(publicKeyBits).digest();
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8(options.commonName ?? 'Coffer local double'))));
  const now = Date.now();
  const notBefore = new Date(now - 3_600_000);
  const notAfter = new Date(now + (options.days ?? 30) * 86_400_000);
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const altNames = sequence(
    tlv(0x87, Buffer.from([127, 0, 0, 1])),
    tlv(0x87, Buffer.from('00000000000000000000000000000001', 'hex')),
    tlv(0x82, Buffer.from('localhost', 'ascii')),
  );
  const extensions = sequence(
    extension('2.5.29.14', false, octets(keyId)),
    extension('2.5.29.35', false, sequence(tlv(0x80, keyId))),
    extension('2.5.29.19', true, sequence(boolTrue())),
    // digitalSignature and keyCertSign
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))),
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.17', false, altNames),
  );
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name,
    sequence(utcTime(notBefore), utcTime(notAfter)),
    name,
    spki,
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, bitString(signature));
  return {
    certPem: pem('CERTIFICATE', certificate),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
