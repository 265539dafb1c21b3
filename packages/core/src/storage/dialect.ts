/** The SQL dialects Coffer runs on. */
export type DialectName = 'sqlite' | 'postgres' | 'mysql';

/**
 * What differs between dialects, as capability flags; storage code branches on these, never
 * on the dialect name, so a new dialect is one more entry.
 */
export interface DialectFeatures {
  /** `SELECT ... FOR UPDATE` is supported (SQLite serializes writers instead). */
  forUpdate: boolean;
  /** `INSERT ... RETURNING` is supported. */
  returning: boolean;
  /** Upserts are spelled `ON DUPLICATE KEY UPDATE` instead of `ON CONFLICT`. */
  duplicateKeyUpsert: boolean;
  /** `WITH x AS (UPDATE ... RETURNING ...) INSERT ...`: several writes in one atomic statement. */
  writableCte: boolean;
  /** SQL type of a binary column. */
  blobType: 'blob' | 'bytea' | 'longblob';
  /**
   * A row-value comparison `(a, b) > (x, y)` seeks an index on (a, b). MariaDB's optimizer
   * scans the table for it instead, so there keyset pages spell the comparison out
   * (storage/keyset.ts).
   */
  rowValueSeek: boolean;
}

export const dialectFeatures = {
  sqlite: {
    forUpdate: false,
    returning: true,
    duplicateKeyUpsert: false,
    writableCte: false,
    blobType: 'blob',
    rowValueSeek: true,
  },
  postgres: {
    forUpdate: true,
    returning: true,
    duplicateKeyUpsert: false,
    writableCte: true,
    blobType: 'bytea',
    rowValueSeek: true,
  },
  mysql: {
    forUpdate: true,
    returning: false,
    duplicateKeyUpsert: true,
    writableCte: false,
    blobType: 'longblob',
    rowValueSeek: false,
  },
} as const satisfies Record<DialectName, DialectFeatures>;
