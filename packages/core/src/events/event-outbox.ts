import { sql } from 'kysely';
import type { CofferDatabase } from '../storage/database.js';
import { oncePer, preparedInsert, preparedQuery } from '../storage/prepared.js';
import type { EventRow } from '../storage/schema.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import type {
  FeedEvent,
  IdentityEventInput,
  IdentityEventType,
  SecretEventInput,
  SecretEventType,
} from './event-types.js';

/**
 * The PostgreSQL channel replicas LISTEN on. The payload is the event's `seq`: a server that
 * already read that far skips the read (servers read the table, never the payload's contents).
 */
export const eventChannel = 'coffer_events';

/** The audit record a change wrote in the same transaction: its number and time are the event's. */
export interface AuditPosition {
  seq: number;
  at: string;
}

/**
 * Where changes write their events: in the change's own transaction, right after its audit
 * record, whose `seq` the event takes. The audit head lock held until commit orders these
 * transactions, so the visible events always form a gapless prefix that replicas tail by `seq`.
 *
 * @example
 * const record = await audit.append(tx, entry);
 * await outbox.record(tx, record, { type: 'secret.updated', secretId, name, kind, version, actorId, ownerId });
 */
export interface EventOutbox {
  record(tx: Tx, position: AuditPosition, event: SecretEventInput | IdentityEventInput): Promise<void>;
}

/** The columns of `events`, in the order the prepared insert binds them, and that the feed reads. */
const eventColumns = [
  'seq',
  'at',
  'type',
  'secret_id',
  'name',
  'kind',
  'version',
  'owner_id',
  'actor_id',
  'subject',
] as const satisfies readonly (keyof EventRow)[];
// The feed reads these columns too: a column added to EventRow must be added above.
const everyEventColumn: Exclude<keyof EventRow, (typeof eventColumns)[number]> extends never ? true : never =
  true;
void everyEventColumn;

export function createEventOutbox(database: CofferDatabase): EventOutbox {
  const insert =
    database.dialect === 'postgres'
      ? insertAndNotify(database)
      : preparedInsert(database.db, 'events', eventColumns);
  return {
    async record(tx, position, event) {
      const row: EventRow =
        'subject' in event
          ? {
              seq: position.seq,
              at: position.at,
              type: event.type,
              secret_id: null,
              name: null,
              kind: null,
              version: null,
              owner_id: null,
              actor_id: null,
              subject: event.subject,
            }
          : {
              seq: position.seq,
              at: position.at,
              type: event.type,
              secret_id: event.secretId,
              name: event.name,
              kind: event.kind,
              version: event.version,
              owner_id: event.ownerId,
              actor_id: event.actorId,
              subject: null,
            };
      await insert.execute(tx, row);
    },
  };
}

/**
 * PostgreSQL: the insert and the `NOTIFY` that wakes the other servers, in one statement. The
 * notification, naming the event's `seq`, is delivered when (and only if) the transaction
 * commits. The event goes in while the audit head is locked, and every write waits for that
 * lock, so one round trip less here is one less for every write in the queue behind it.
 */
function insertAndNotify(database: CofferDatabase): { execute(on: Tx, row: EventRow): Promise<unknown> } {
  const statement = preparedQuery((...values: unknown[]) =>
    database.db
      .with('inserted', (db) =>
        db
          .insertInto('events')
          .values(Object.fromEntries(eventColumns.map((c, i) => [c, values[i]])) as unknown as EventRow)
          .returning('seq'),
      )
      .selectFrom('inserted')
      .select(
        sql<string>`pg_notify(${eventChannel}, cast(${sql.ref('inserted.seq')} as text))`.as('notified'),
      ),
  );
  return { execute: (on, row) => statement.execute(on, ...eventColumns.map((c) => row[c])) };
}

/** Up to `limit` events after `cursor`, in order. */
export async function readEventsAfter(
  database: CofferDatabase,
  cursor: number,
  limit: number,
): Promise<FeedEvent[]> {
  const { rows } = await eventsAfterFor(database).execute(database.db, cursor, limit);
  return rows.map(eventOf);
}

/**
 * The feed's read, compiled once per database (see preparedQuery): it runs after every commit.
 * It names its columns, so SQLite hands its rows over as arrays (storage/database.ts).
 */
const eventsAfterFor = oncePer((database: CofferDatabase) =>
  preparedQuery((cursor: number, limit: number) =>
    database.db
      .selectFrom('events')
      .select(eventColumns)
      .where('seq', '>', cursor)
      .orderBy('seq')
      .limit(limit),
  ),
);

/** The newest event's `seq`, or 0. */
export async function latestEventSeq(database: CofferDatabase): Promise<number> {
  const row = await database.db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return row?.seq === null || row?.seq === undefined ? 0 : Number(row.seq);
}

/** The newest `seq` retention has dropped (0 when nothing was ever dropped). */
export async function prunedThrough(database: CofferDatabase): Promise<number> {
  const row = await database.db
    .selectFrom('events_horizon')
    .select('pruned_through')
    .where('id', '=', 1)
    .executeTakeFirst();
  return row === undefined ? 0 : Number(row.pruned_through);
}

/**
 * Drops events older than `before` (ISO time) and moves the horizon past them, in one
 * transaction, so a subscriber resuming from a dropped position is told so.
 */
export async function pruneEvents(database: CofferDatabase, before: string): Promise<number> {
  return inTransaction(database, async (tx) => {
    const newest = await tx
      .selectFrom('events')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('at', '<', before)
      .executeTakeFirst();
    if (newest?.seq === null || newest?.seq === undefined) return 0;
    const through = Number(newest.seq);
    const result = await tx.deleteFrom('events').where('seq', '<=', through).executeTakeFirst();
    const moved = await tx
      .updateTable('events_horizon')
      .set({ pruned_through: through })
      .where('id', '=', 1)
      .where('pruned_through', '<', through)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) {
      const exists = await tx
        .selectFrom('events_horizon')
        .select('id')
        .where('id', '=', 1)
        .executeTakeFirst();
      if (exists === undefined)
        await tx.insertInto('events_horizon').values({ id: 1, pruned_through: through }).execute();
    }
    return Number(result.numDeletedRows);
  });
}

function eventOf(row: EventRow): FeedEvent {
  if (row.subject !== null) {
    return { seq: Number(row.seq), type: row.type as IdentityEventType, subject: row.subject, at: row.at };
  }
  return {
    seq: Number(row.seq),
    type: row.type as SecretEventType,
    secretId: row.secret_id ?? '',
    name: row.name ?? '',
    kind: row.kind ?? '',
    version: row.version ?? 0,
    actorId: row.actor_id ?? '',
    ownerId: row.owner_id ?? '',
    at: row.at,
  };
}

/**
 * What a service needs to report changes: record the event in the change's transaction, then
 * say `changed()` once it committed, so this server's listeners hear of it at once.
 *
 * @example
 * await inTransaction(database, async (tx) => {
 *   const record = await audit.append(tx, entry);
 *   await events.record(tx, record, event);
 * });
 * events.changed();
 */
export interface EventWriter extends EventOutbox {
  changed(): void;
}

/** An event writer that records nothing, for services used without a feed (unit tests). */
export const noEvents: EventWriter = { record: async () => {}, changed: () => {} };
