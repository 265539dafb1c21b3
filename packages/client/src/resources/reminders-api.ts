import type { DueFilter, DueSecret, ReminderRun } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** What {@link RemindersApi.due} lists: `within` days ahead (`'30d'`, `'7'`), a `reason`, a `view`. */
export type DueQuery = Omit<DueFilter, 'within'> & {
  /** Days ahead: a number, or `'30d'`; default: the server's `reminders.withinDays` (30). */
  within?: number | string;
};

/**
 * Expiry and rotation reminders (docs/reminders.md): the secrets that expired, expire or are due
 * for rotation, and (admins) mailing the owners now.
 */
export interface RemindersApi {
  /**
   * `GET /reminders/due`: one page of the secrets the caller may read that expired, expire
   * within `within` days or are due for rotation within it (or overdue), earliest first.
   *
   * @example
   * const { items } = await client.reminders.due({ within: 14 });
   * for (const s of items) console.log(s.name, s.reasons.join('+'), s.dueAt);
   */
  due(query?: DueQuery & PageQuery & CallOptions): Promise<Page<DueSecret>>;
  /** Every secret {@link due} finds, page after page. */
  iterateDue(query?: DueQuery & { limit?: number } & CallOptions): AsyncGenerator<DueSecret, void, undefined>;
  /**
   * `POST /reminders/run` (admins): mails what is due now instead of waiting for the job's timer;
   * `warning` says why nothing could be sent (e.g. no SMTP secret shared with `system`).
   */
  run(options?: CallOptions): Promise<ReminderRun>;
}

export function remindersApi(transport: Transport): RemindersApi {
  const api: RemindersApi = {
    due: (options) => {
      const { query, call } = splitOptions(options);
      const { within, ...rest } = query;
      return transport.call('GET /reminders/due', {
        query: { ...rest, ...(within === undefined ? {} : { within: String(within) }) },
        ...call,
      });
    },
    iterateDue: (options = {}) => {
      const { limit, signal, ...rest } = options;
      return paginate((page) => api.due({ ...rest, ...page }), {
        ...(limit === undefined ? {} : { limit }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
    run: (options) => transport.call('POST /reminders/run', { body: {}, ...callOptions(options) }),
  };
  return api;
}
