import type { Queryable } from '../secrets/secret-store.js';
import { afterKeyset, type KeysetFeatures } from '../storage/keyset.js';
import { type TokenInfoRow, tokenInfoColumns } from './identity-rows.js';

export interface TokenPageQuery {
  userId: string;
  /** Revoked and expired tokens too. */
  includeInactive: boolean;
  now: string;
  /** The keyset cursor: the (created_at, id) of the last token of the previous page. */
  after?: readonly [createdAt: string, id: string];
  limit: number;
  /** How to seek the page to `after` on this dialect. */
  features: KeysetFeatures;
}

/** A user's tokens, newest first, a page at a time. */
export async function tokensOfUser(db: Queryable, q: TokenPageQuery): Promise<TokenInfoRow[]> {
  const after = q.after;
  return db
    .selectFrom('api_tokens')
    .select(tokenInfoColumns)
    .where('user_id', '=', q.userId)
    .$if(!q.includeInactive, (query) =>
      query
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', q.now)])),
    )
    .$if(after !== undefined, (query) =>
      query.where((eb) => afterKeyset(eb, q.features, 'desc', ['created_at', after![0]], ['id', after![1]])),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit)
    .execute();
}
