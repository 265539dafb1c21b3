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
}

export const dialectFeatures = {
  sqlite: {
    forUpdate: false,
    returning: true,
    duplicateKeyUpsert: false,
    writableCte: false,
    blobType: 'blob',
  },
  postgres: {
    forUpdate: true,
    returning: true,
    duplicateKeyUpsert: false,
    writableCte: true,
    blobType: 'bytea',
  },
  mysql: {
    forUpdate: true,
    returning: false,
    duplicateKeyUpsert: true,
    writableCte: false,
    blobType: 'longblob',
  },
} as const satisfies Record<DialectName, DialectFeatures>;
