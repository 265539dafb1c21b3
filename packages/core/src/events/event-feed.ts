import type { Logger } from '../logging/logger.js';
import type { CofferDatabase } from '../storage/database.js';
import {
  type EventOutbox,
  type EventWriter,
  latestEventSeq,
  prunedThrough,
  readEventsAfter,
} from './event-outbox.js';
import type { FeedEvent, SecretEvent } from './event-types.js';
import { isSecretEvent } from './event-types.js';

/** Rows one read takes; a subscriber catching up reads page after page. */
const pageSize = 500;

export interface SubscribeOptions {
  /**
   * Resume after this `seq` (a previous event's): events committed since are delivered first,
   * in order, then the live ones. Without it, events after the feed's `cursor()` arrive: those
   * committed from now on, and any committed just before that the feed had not read yet
   * (`await sync()` first to start strictly after everything committed before the call).
   */
  after?: number;
  /**
   * Called instead of replaying when `after` lies before what retention still keeps: the
   * subscriber missed events and should re-read the state it tracks. Without it, `subscribe`'s
   * listener simply continues from the oldest kept event.
   */
  onGap?: (info: { after: number; prunedThrough: number }) => void;
}

/**
 * Change events from every server sharing the database, in `seq` order, at least once.
 *
 * @example
 * const off = coffer.events.subscribe((e) => { if (e.name === 'smtp') reloadMailer(); });
 * // resume after a restart from the last event handled:
 * coffer.events.subscribe(handle, { after: savedSeq });
 */
export interface EventBus {
  subscribe(listener: (event: SecretEvent) => void, options?: SubscribeOptions): () => void;
  /** Resolves once every event committed before the call has been handed to the listeners. */
  sync(): Promise<void>;
  /** The `seq` of the newest event handed to live listeners. */
  cursor(): number;
}

/** The engine's side of the feed: identity events for caches, waking after a local commit. */
export interface EventFeed extends EventBus {
  /** Every event, identity ones included, for the engine's caches. */
  subscribeAll(listener: (event: FeedEvent) => void): () => void;
  /**
   * Reads new events now (a local change just committed, or a notification arrived). With
   * `upTo`, the `seq` a notification announced: nothing is read when the feed already has it,
   * as it has after this server's own commits (their read runs at once; the notification of
   * the same event arrives after).
   */
  wake(upTo?: number): void;
  /** Reads the newest `seq` and starts polling. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface EventFeedOptions {
  database: CofferDatabase;
  logger: Logger;
  /** How often to look for events other servers committed (PostgreSQL is also woken by NOTIFY). */
  pollIntervalMs: number;
}

interface Subscriber {
  listener: (event: FeedEvent) => void;
  secretOnly: boolean;
  /** The newest `seq` this subscriber was handed. */
  cursor: number;
  /** False while it replays from the table; live events wait in `buffer` meanwhile. */
  live: boolean;
  buffer: FeedEvent[];
}

/**
 * Tails the `events` table: a local commit wakes it at once, other servers' commits reach it by
 * polling (and on PostgreSQL by NOTIFY). One read runs at a time; every subscriber sees events
 * in `seq` order. A throwing listener is logged and never stops the feed.
 */
export function createEventFeed(options: EventFeedOptions): EventFeed {
  const { database, logger } = options;
  const subscribers = new Set<Subscriber>();
  let head = 0;
  let started = false;
  let closed = false;
  let running: Promise<void> | undefined;
  /**
   * Whether to read again once the running read ends: `'any'`, or the highest `seq` that
   * notifications announced meanwhile (read again only if the read did not reach it).
   */
  let again: 'no' | 'any' | number = 'no';
  let timer: NodeJS.Timeout | undefined;
  const waiting: { target: number; resolve: () => void }[] = [];

  function hand(sub: Subscriber, event: FeedEvent): void {
    if (event.seq <= sub.cursor) return;
    sub.cursor = event.seq;
    if (sub.secretOnly && !isSecretEvent(event)) return;
    try {
      sub.listener(event);
    } catch (err) {
      logger.warn({ err }, 'an event listener threw');
    }
  }

  async function readNew(): Promise<void> {
    for (;;) {
      const events = await readEventsAfter(database, head, pageSize);
      for (const event of events) {
        head = event.seq;
        for (const sub of subscribers) {
          if (sub.live) hand(sub, event);
          else sub.buffer.push(event);
        }
      }
      if (events.length < pageSize) break;
    }
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (waiting[i]!.target <= head) waiting.splice(i, 1)[0]!.resolve();
    }
  }

  /** Whether what arrived during a read asks for another (see `again`). */
  const readAgain = (): boolean => again === 'any' || (again !== 'no' && again > head);

  function wake(upTo?: number): void {
    if (!started || closed) return;
    if (upTo !== undefined && upTo <= head) return;
    if (running !== undefined) {
      again = upTo === undefined || again === 'any' ? 'any' : Math.max(again === 'no' ? 0 : again, upTo);
      return;
    }
    running = (async () => {
      do {
        again = 'no';
        try {
          await readNew();
        } catch (err) {
          // The database is away: the next poll tries again; nothing is lost, the cursor stays.
          logger.debug({ err }, 'reading change events failed; retrying at the next poll');
          break;
        }
      } while (!closed && readAgain());
      running = undefined;
    })();
  }

  async function replay(sub: Subscriber, after: number, onGap: SubscribeOptions['onGap']): Promise<void> {
    try {
      const horizon = await prunedThrough(database);
      if (after < horizon) {
        if (onGap !== undefined) {
          sub.cursor = head;
          onGap({ after, prunedThrough: horizon });
        }
      }
      while (sub.cursor < head && subscribers.has(sub)) {
        const events = await readEventsAfter(database, sub.cursor, pageSize);
        if (events.length === 0) break;
        for (const event of events) if (event.seq <= head) hand(sub, event);
      }
    } catch (err) {
      logger.warn({ err }, 'replaying change events failed; the subscriber continues with live events');
    }
    for (const event of sub.buffer.splice(0)) hand(sub, event);
    sub.live = true;
  }

  function add(listener: (event: FeedEvent) => void, secretOnly: boolean, subscribe: SubscribeOptions = {}) {
    // Resuming always looks at the retention horizon first, even when nothing newer is known yet.
    const resume = subscribe.after !== undefined && started;
    const sub: Subscriber = {
      listener,
      secretOnly,
      cursor: subscribe.after ?? head,
      live: !resume,
      buffer: [],
    };
    subscribers.add(sub);
    if (resume) void replay(sub, subscribe.after!, subscribe.onGap);
    return () => {
      subscribers.delete(sub);
    };
  }

  return {
    subscribe: (listener, subscribeOptions) =>
      add(listener as (event: FeedEvent) => void, true, subscribeOptions),
    subscribeAll: (listener) => add(listener, false),
    cursor: () => head,
    wake,
    async sync() {
      if (!started) return;
      const target = await latestEventSeq(database);
      if (target <= head) return;
      const done = new Promise<void>((resolve) => waiting.push({ target, resolve }));
      wake();
      await done;
    },
    async start() {
      if (started) return;
      head = await latestEventSeq(database);
      started = true;
      timer = setInterval(wake, options.pollIntervalMs);
      timer.unref();
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
      for (const w of waiting.splice(0)) w.resolve();
      subscribers.clear();
    },
  };
}

/**
 * The event writer of one engine: events go to `outbox` in each change's transaction, and a
 * commit wakes `feed` up to the highest `seq` recorded so far. Concurrent writes commit
 * together (the group commit) and each says `changed()` after it. Woken with no `seq`, the
 * feed read again after its first read for every commit that ended during it; woken with one,
 * it reads again only when that read did not reach it (docs/performance.md, "One read of the
 * feed per commit"). The highest `seq` recorded, even by a write that then rolled back, is at
 * or above every event of the commit, so the feed never stops short of them.
 *
 * @example
 * const events = eventWriterFor(createEventOutbox(database), feed);
 */
export function eventWriterFor(outbox: EventOutbox, feed: Pick<EventFeed, 'wake'>): EventWriter {
  let recordedUpTo = 0;
  return {
    record(tx, position, event) {
      if (position.seq > recordedUpTo) recordedUpTo = position.seq;
      return outbox.record(tx, position, event);
    },
    changed: () => (recordedUpTo === 0 ? feed.wake() : feed.wake(recordedUpTo)),
  };
}
