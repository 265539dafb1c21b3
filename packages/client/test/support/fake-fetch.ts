// Fetch doubles: a scripted one for retries and timing (no server, no clock), and a recording
// wrapper around the real fetch.

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export type Reply = Response | Error | ((request: RecordedRequest) => Response | Promise<Response>);

/** Answers each request with the next scripted reply (the last one repeats); an Error is thrown. */
export function scriptedFetch(...replies: Reply[]): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fake = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request = recorded(input, init);
    requests.push(request);
    init.signal?.throwIfAborted();
    const reply = replies[Math.min(requests.length - 1, replies.length - 1)]!;
    if (reply instanceof Error) throw reply;
    return typeof reply === 'function' ? reply(request) : reply.clone();
  };
  return Object.assign(fake as typeof fetch, { requests });
}

/** The real fetch, recording every request. */
export function recordingFetch(): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const wrapper = (input: RequestInfo | URL, init: RequestInit = {}) => {
    requests.push(recorded(input, init));
    return fetch(input, init);
  };
  return Object.assign(wrapper as typeof fetch, { requests });
}

function recorded(input: RequestInfo | URL, init: RequestInit): RecordedRequest {
  return {
    method: init.method ?? 'GET',
    url: String(input),
    headers: Object.fromEntries(new Headers(init.headers).entries()),
    body: typeof init.body === 'string' ? init.body : undefined,
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type, ...headers } });
}

export function problem(status: number, code: string, headers: Record<string, string> = {}): Response {
  return json(
    status,
    { type: `urn:coffer:error:${code}`, title: code, status, code, detail: `a ${code}` },
    headers,
  );
}

/** What undici throws when nothing answers. */
export function connectionRefused(): Error {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
  });
}
