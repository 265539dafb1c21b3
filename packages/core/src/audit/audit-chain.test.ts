import { describe, expect, it } from 'vitest';
import { auditRecordHash, auditRowOf, canonicalAuditRow, genesisHash } from './audit-chain.js';

// A record's hash can never change: records written by an earlier release must still verify.
// These pin the serialization and the digest to values computed once, outside this code.
describe('the audit chain’s record hash', () => {
  const row = auditRowOf(
    {
      action: 'secret.reveal',
      outcome: 'success',
      actor: { type: 'user', id: 'u-1', name: 'Zoë 🔑' },
      source: 'api',
      address: '198.51.100.4',
      target: { type: 'secret', id: 's-1', name: 'mail' },
      details: { version: 3, fields: ['password'] },
    },
    42,
    '2026-12-07T10:00:00.000Z',
    genesisHash,
  );

  it('serializes a record as a JSON array of its columns, details with sorted keys', () => {
    expect(canonicalAuditRow(row)).toBe(
      JSON.stringify([
        'coffer-audit-v1',
        42,
        '2026-12-07T10:00:00.000Z',
        'user',
        'u-1',
        'Zoë 🔑',
        'secret.reveal',
        'secret',
        's-1',
        'mail',
        'success',
        'api',
        '198.51.100.4',
        null,
        '{"fields":["password"],"version":3}',
        genesisHash,
      ]),
    );
  });

  it('is the SHA-256 of that text as UTF-8, in hex', () => {
    expect(auditRecordHash(row)).toBe('3de3fd9fad4c9a15685eb50b88c8d4f4a493bb2c6306b6c91a01f4f670dbfee0');
  });
});
