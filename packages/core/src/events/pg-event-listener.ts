import type { Logger } from '../logging/logger.js';
import { eventChannel } from './event-outbox.js';

/**
 * LISTENs on the events channel over a connection of its own and calls `onNotify` for each
 * notification, so a PostgreSQL replica sees other servers' changes within milliseconds rather
 * than at the next poll. A dropped connection is reopened with backoff; polling covers the gap.
 * `onNotify` gets the `seq` of the event the notification announced, when its payload names one
 * (undefined on connecting, and for notifications without it).
 *
 * @example
 * const stop = await listenForEvents(url, (seq) => feed.wake(seq), logger);
 */
export async function listenForEvents(
  url: string,
  onNotify: (seq?: number) => void,
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
    next.on('notification', (message) => onNotify(announcedSeq(message.payload)));
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

/** The event `seq` a notification's payload names; undefined for any other payload. */
function announcedSeq(payload: string | undefined): number | undefined {
  const seq = Number(payload);
  return payload !== undefined && payload !== '' && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}
