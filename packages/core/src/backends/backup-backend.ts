import { isCofferError } from '../errors/coffer-error.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Logger } from '../logging/logger.js';
import type { Backend, ValueRef } from './backend.js';

/**
 * A primary backend with a backup (ZenML's backup secrets store): every value written to the
 * primary is also written to the backup, deletes go to both, and a read the primary fails
 * falls back to the backup. The pair keeps the primary's name, so secrets record the primary.
 *
 * - A put fails only if the primary fails; a failed backup write is logged (the backup then
 *   lacks that version) so an outage of the backup does not stop writes.
 * - A delete fails if either fails, so the value journal retries it and the backup keeps no
 *   values that Coffer no longer references.
 * - `list` is the primary's. Re-wrapping and closing stay with the two instances themselves.
 *
 * @example
 * const active = withBackup(backends.get('vault')!, backends.get('files')!, logger);
 */
export function withBackup(primary: Backend, backup: Backend, logger: Logger): Backend {
  const pair: Backend = {
    name: primary.name,
    type: primary.type,
    capabilities: primary.capabilities,
    async put(ref: ValueRef, values: SecretValues) {
      await primary.put(ref, values);
      try {
        await backup.put(ref, values);
      } catch (err) {
        logger.warn(
          { err, secretId: ref.secretId, version: ref.version, backend: primary.name, backup: backup.name },
          'writing the backup copy of a value failed; the primary holds it',
        );
      }
    },
    async get(ref: ValueRef) {
      try {
        return await primary.get(ref);
      } catch (primaryError) {
        try {
          const values = await backup.get(ref);
          logger.warn(
            {
              err: primaryError,
              secretId: ref.secretId,
              version: ref.version,
              backend: primary.name,
              backup: backup.name,
            },
            'reading a value from the primary backend failed; served it from the backup',
          );
          return values;
        } catch (backupError) {
          if (!isCofferError(backupError, 'value_not_found')) {
            logger.warn(
              { err: backupError, secretId: ref.secretId, version: ref.version, backup: backup.name },
              'the backup could not serve a value either',
            );
          }
          throw primaryError;
        }
      }
    },
    async delete(ref: ValueRef) {
      const results = await Promise.allSettled([primary.delete(ref), backup.delete(ref)]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    },
    list: (options) => primary.list(options),
  };
  return pair;
}
