import type { Share, ShareInput } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import type { Page, PageQuery } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** Who holds which level on a secret. Changing shares needs `manage`. */
export interface SharesApi {
  /** `GET /secrets/{ref}/shares`: groups first, then users, by name. */
  list(ref: string, page?: PageQuery & CallOptions): Promise<Page<Share>>;
  /**
   * `POST /secrets/{ref}/shares`: grants or changes one level. Default: `read` for a user,
   * `use` for a group.
   */
  grant(ref: string, input: ShareInput, options?: CallOptions): Promise<Share>;
  /** `DELETE /secrets/{ref}/shares/{granteeType}/{granteeId}`: effective on the grantee's next request. */
  revoke(
    ref: string,
    granteeType: Share['granteeType'],
    granteeId: string,
    options?: CallOptions,
  ): Promise<void>;
}

export function sharesApi(transport: Transport): SharesApi {
  return {
    list: (ref, page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /secrets/{ref}/shares', { path: { ref }, query, ...call });
    },
    grant: (ref, input, options) =>
      transport.call('POST /secrets/{ref}/shares', { path: { ref }, body: input, ...callOptions(options) }),
    revoke: async (ref, granteeType, granteeId, options) => {
      await transport.call('DELETE /secrets/{ref}/shares/{granteeType}/{granteeId}', {
        path: { ref, granteeType, granteeId },
        ...callOptions(options),
      });
    },
  };
}
