import { CofferError } from '../../errors/coffer-error.js';
import type { ValueRef } from '../backend.js';

/**
 * The file backend's blob format, version 1:
 *
 * | bytes | field                                                        |
 * |-------|--------------------------------------------------------------|
 * | 4     | magic `CFFV`                                                 |
 * | 1     | format version (1)                                           |
 * | 2     | n = length of the header, big-endian                         |
 * | n     | header: JSON `{ "labels": { ... } }` (owner labels, no value)|
 * | rest  | the keyring's sealed envelope (`CFKR...`)                    |
 *
 * The envelope is bound to the secret id and version, so a blob copied onto another path
 * fails to open; the labels say which deployment wrote it.
 */
export const FILE_BLOB_MAGIC = Buffer.from('CFFV', 'ascii');
const FORMAT_VERSION = 1;
const PREFIX_LENGTH = FILE_BLOB_MAGIC.length + 1 + 2;
const MAX_HEADER_LENGTH = 4096;

export interface FileBlob {
  labels: Record<string, string>;
  envelope: Buffer;
}

export function encodeFileBlob(blob: FileBlob): Buffer {
  const header = Buffer.from(JSON.stringify({ labels: blob.labels }), 'utf8');
  if (header.length > MAX_HEADER_LENGTH) throw new CofferError('internal', 'file blob header too large');
  const prefix = Buffer.alloc(PREFIX_LENGTH);
  FILE_BLOB_MAGIC.copy(prefix, 0);
  prefix.writeUInt8(FORMAT_VERSION, FILE_BLOB_MAGIC.length);
  prefix.writeUInt16BE(header.length, FILE_BLOB_MAGIC.length + 1);
  return Buffer.concat([prefix, header, blob.envelope]);
}

/** Parses a blob; anything malformed is `integrity` naming the ref (never the bytes). */
export function decodeFileBlob(bytes: Buffer, ref: ValueRef, backendName: string): FileBlob {
  const broken = (why: string) =>
    new CofferError(
      'integrity',
      `the value of secret ${ref.secretId} version ${ref.version} in backend ${backendName} is damaged (${why})`,
    );
  if (bytes.length < PREFIX_LENGTH || !bytes.subarray(0, FILE_BLOB_MAGIC.length).equals(FILE_BLOB_MAGIC)) {
    throw broken('not a Coffer value file');
  }
  if (bytes.readUInt8(FILE_BLOB_MAGIC.length) !== FORMAT_VERSION) throw broken('unknown format version');
  const headerLength = bytes.readUInt16BE(FILE_BLOB_MAGIC.length + 1);
  if (headerLength > MAX_HEADER_LENGTH || PREFIX_LENGTH + headerLength >= bytes.length) {
    throw broken('bad header length');
  }
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(PREFIX_LENGTH, PREFIX_LENGTH + headerLength).toString('utf8'));
  } catch {
    throw broken('unreadable header');
  }
  const labels = (header as { labels?: unknown } | null)?.labels;
  if (
    labels === null ||
    typeof labels !== 'object' ||
    Array.isArray(labels) ||
    Object.values(labels).some((v) => typeof v !== 'string')
  ) {
    throw broken('bad labels');
  }
  return { labels: labels as Record<string, string>, envelope: bytes.subarray(PREFIX_LENGTH + headerLength) };
}
