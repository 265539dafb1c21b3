import { CofferApiError, type CofferErrorCode, isCofferApiError } from '../errors/api-error.js';
import { backoffDelay, type RetryPolicy, sleep } from '../http/retry-policy.js';
import type { CallOptions, Transport } from '../http/transport.js';

/** A change of a secret the caller may read: everything but values. */
export interface SecretEventMessage {
  access: 'read';
  /** Position in the server's feed; `after` resumes from it. */
  seq: number;
  type: string;
  secretId: string;
  name: string;
  kind: string;
  version: number;
  actorId: string;
  ownerId: string;
  at: string;
}

/** A change of a secret the caller may only `use`: that it changed, not what it is. */
export interface SecretChangedMessage {
  access: 'use';
  seq: number;
  type: string;
  secretId: string;
  version: number;
  at: string;
}

/** What {@link CofferClient.events} yields: a change, or `reset` when events were missed. */
export type EventMessage =
  | SecretEventMessage
  | SecretChangedMessage
  | { access: 'reset'; type: 'reset'; prunedThrough: number };

/** Internal to the client: the stream is open (again), at this position. */
export interface ReadyMessage {
  access: 'ready';
  type: 'ready';
  cursor: number;
}

export interface EventsOptions extends CallOptions {
  /** Resume after this `seq`; by default only changes from now on. */
  after?: number;
  /** Only these secrets (ids). */
  secretIds?: readonly string[];
  /** Called whenever the stream is open (again), with the server's current position. */
  onReady?: (cursor: number) => void;
}

/** Statuses after which reconnecting may help. */
const transientStatuses = new Set([0, 429, 502, 503, 504]);

/**
 * `GET /events` as an async generator: parses Server-Sent Events, reconnects after a dropped
 * connection or a passing failure (with backoff, resuming from the last event with
 * `Last-Event-ID`), and ends when the signal aborts. Credentials that stop working, or a
 * server without the stream (404), end it with the error.
 */
export function streamEvents(
  transport: Transport,
  retry: RetryPolicy,
  options: EventsOptions = {},
): AsyncGenerator<EventMessage, void, undefined> {
  return streamWithReady(transport, retry, options, false) as AsyncGenerator<EventMessage, void, undefined>;
}

/**
 * {@link streamEvents}, also yielding a `ready` message each time the stream opens when
 * `withReady` is set: `watch` reads its secrets again then, so a change made while no stream
 * was open is not missed.
 */
export async function* streamWithReady(
  transport: Transport,
  retry: RetryPolicy,
  options: EventsOptions,
  withReady: boolean,
): AsyncGenerator<EventMessage | ReadyMessage, void, undefined> {
  let last = options.after;
  let failures = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    let response: Response;
    try {
      response = await transport.stream('GET /events', {
        query: options.secretIds === undefined ? {} : { secretId: [...options.secretIds] },
        ...(last === undefined ? {} : { headers: { 'last-event-id': String(last) } }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (err) {
      if (options.signal?.aborted) return;
      if (!(isCofferApiError(err) && transientStatuses.has(err.status))) throw err;
      failures++;
      await sleep(backoffDelay(retry, Math.min(failures, 8)), options.signal).catch(() => {});
      continue;
    }
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      void response.body?.cancel().catch(() => {});
      throw new CofferApiError({
        status: response.status,
        code: 'unexpected_response',
        message: 'GET /events did not answer with an event stream',
        method: 'GET',
        path: '/events',
      });
    }
    try {
      for await (const frame of framesOf(response)) {
        failures = 0;
        if (frame.event === 'ready') {
          const cursor = Number((frame.data as { cursor?: number }).cursor ?? 0);
          options.onReady?.(cursor);
          if (withReady) yield { access: 'ready', type: 'ready', cursor };
          continue;
        }
        if (frame.event === 'error') {
          // The server ended the stream because the caller's credentials stopped working.
          const code = String((frame.data as { code?: string }).code ?? 'internal') as CofferErrorCode;
          throw new CofferApiError({
            status: code === 'unauthenticated' ? 401 : 0,
            code,
            message: `the event stream was ended by the server (${code})`,
            method: 'GET',
            path: '/events',
          });
        }
        if (frame.event === 'reset') {
          const prunedThrough = Number((frame.data as { prunedThrough?: number }).prunedThrough ?? 0);
          yield { access: 'reset', type: 'reset', prunedThrough };
          continue;
        }
        if (frame.id !== undefined) last = frame.id;
        yield frame.data as SecretEventMessage | SecretChangedMessage;
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      if (isCofferApiError(err)) throw err;
      // A dropped connection: reconnect below and resume from `last`.
    }
    if (options.signal?.aborted) return;
    failures++;
    await sleep(backoffDelay(retry, Math.min(failures, 8)), options.signal).catch(() => {});
  }
}

interface Frame {
  event: string;
  id: number | undefined;
  data: unknown;
}

/** Splits a `text/event-stream` body into frames (`event`, `id`, JSON `data`); comments are skipped. */
async function* framesOf(response: Response): AsyncGenerator<Frame, void, undefined> {
  if (response.body === null) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = 'message';
  let id: number | undefined;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline = buffer.search(/\r?\n/);
      while (newline !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
        newline = buffer.search(/\r?\n/);
        if (line === '') {
          if (data.length > 0) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(data.join('\n'));
            } catch {
              parsed = data.join('\n');
            }
            yield { event, id, data: parsed };
          }
          event = 'message';
          id = undefined;
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
        else if (field === 'id' && /^\d+$/.test(text)) id = Number(text);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
