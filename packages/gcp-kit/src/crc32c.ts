/**
 * CRC32C (Castagnoli), the checksum Google's APIs take and return (Secret Manager's
 * `dataCrc32c`, Cloud KMS's `plaintextCrc32c` and `ciphertextCrc32c`). Table driven, reflected
 * polynomial 0x82F63B78. A checksum against damage in transit, not a MAC.
 */
const table = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * The CRC32C of `data` as an unsigned 32-bit number.
 *
 * @example
 * crc32c(Buffer.from('123456789')); // 0xe3069283
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
