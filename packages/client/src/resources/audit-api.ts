import type { AuditFilter, AuditRecord, AuditVerification } from '../api-types.js';
import { CofferApiError } from '../errors/api-error.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** The hash-chained audit log (admins). */
export interface AuditApi {
  /** `GET /audit`: one page of records, newest first. */
  query(filter?: AuditFilter & PageQuery & CallOptions): Promise<Page<AuditRecord>>;
  /** Every record {@link query} finds, newest first, page after page. */
  iterate(
    filter?: AuditFilter & { limit?: number } & CallOptions,
  ): AsyncGenerator<AuditRecord, void, undefined>;
  /** `POST /audit/verify`: walks the hash chain; `ok: false` names the first broken record. */
  verify(options?: CallOptions): Promise<AuditVerification>;
  /**
   * `GET /audit/export`: the filtered records oldest first, streamed (the request is sent when
   * the loop starts; the export itself is audited).
   */
  export(filter?: AuditFilter & CallOptions): AsyncGenerator<AuditRecord, void, undefined>;
  /** {@link export} as the raw JSON lines the server sent, to write to a file unchanged. */
  exportLines(filter?: AuditFilter & CallOptions): AsyncGenerator<string, void, undefined>;
}

export function auditApi(transport: Transport): AuditApi {
  const api: AuditApi = {
    query: (filter) => {
      const { query, call } = splitOptions(filter);
      return transport.call('GET /audit', { query, ...call });
    },
    iterate: (filter = {}) => {
      const { limit, signal, ...rest } = filter;
      return paginate((page) => api.query({ ...rest, ...page }), {
        ...(limit === undefined ? {} : { limit }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
    verify: (options) => transport.call('POST /audit/verify', callOptions(options)),
    async *exportLines(filter) {
      const { query, call } = splitOptions(filter);
      const response = await transport.send('GET /audit/export', { query, ...call });
      yield* linesOf(response);
    },
    async *export(filter) {
      for await (const line of api.exportLines(filter)) {
        try {
          yield JSON.parse(line) as AuditRecord;
        } catch (err) {
          throw new CofferApiError({
            status: 200,
            code: 'unexpected_response',
            message: 'GET /audit/export: a line of the export is not valid JSON',
            method: 'GET',
            path: '/audit/export',
            cause: err,
          });
        }
      }
    },
  };
  return api;
}

/** The non-empty lines of a streamed body, as they arrive. */
async function* linesOf(response: Response): AsyncGenerator<string, void, undefined> {
  if (response.body === null) {
    for (const line of (await response.text()).split('\n')) if (line.trim() !== '') yield line;
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim() !== '') yield line;
      }
    }
    buffer += decoder.decode();
    if (buffer.trim() !== '') yield buffer;
    finished = true;
  } finally {
    // A loop that stopped early leaves the rest unread: let the server stop sending it.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
