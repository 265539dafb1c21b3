import type { MigrationFailure, MigrationStatus, StartMigrationInput } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import type { Page, PageQuery } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** Moving values between backends (admins). */
export interface MigrationApi {
  /** `GET /migration`: state, progress, rate, ETA and the first 100 failures. */
  status(options?: CallOptions): Promise<MigrationStatus>;
  /** `POST /migration`: starts or resumes moving values; answers at once with the status. */
  start(input?: StartMigrationInput, options?: CallOptions): Promise<MigrationStatus>;
  /** `GET /migration/failures`: every secret that could not be moved, and why. */
  failures(page?: PageQuery & CallOptions): Promise<Page<MigrationFailure>>;
  /** `POST /migration/drop-kept-sources`: deletes the copies `keepSource` kept (one-way from then on). */
  dropKeptSources(options?: CallOptions): Promise<{ dropped: number }>;
}

export function migrationApi(transport: Transport): MigrationApi {
  return {
    status: (options) => transport.call('GET /migration', callOptions(options)),
    start: (input, options) =>
      transport.call('POST /migration', { body: input ?? {}, ...callOptions(options) }),
    failures: (page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /migration/failures', { query, ...call });
    },
    dropKeptSources: (options) => transport.call('POST /migration/drop-kept-sources', callOptions(options)),
  };
}
