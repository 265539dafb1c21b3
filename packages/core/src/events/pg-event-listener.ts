import type { Logger } from '../logging/logger.js';
import { eventChannel } from './event-outbox.js';

/**
 * LISTENs on the events channel over a connection of its own and calls `onNotify` for each
 * notification, so a PostgreSQL replica sees other servers' changes within milliseconds rather
 * than at the next poll. A dropped connection is reopened with backoff; polling covers the gap.
 *
 * @example
 * const stop = await listenForEvents(url, () => feed.wake(), logger);
 */
export async function listenForEvents(
  url: string,
  onNotify: () => void,
  logger: Logger,
): Promise<() => Promise<void>> {
  const pg = (await import('pg')).default;
  let client: InstanceType<typeof pg.Client> | undefined;
  let stopped = false;
  let retryMs = 500;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new pg.Client({ connectionString: url });
    next.on('notification', onNotify);
    next.on('error', () => {});
    next.on('end', () => {
      if (client === next) client = undefined;
      if (!stopped) schedule();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${eventChannel}`);
      client = next;
      retryMs = 500;
      // Whatever was committed while nobody listened.
      onNotify();
    } catch (err) {
      logger.debug({ err }, 'listening for change events failed; retrying');
      await next.end().catch(() => {});
    }
  };
  const schedule = () => {
    if (retry !== undefined || stopped) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, retryMs);
    retry.unref();
    retryMs = Math.min(retryMs * 2, 10_000);
  };

  await connect();
  if (client === undefined) schedule();
  return async () => {
    stopped = true;
    if (retry !== undefined) clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
