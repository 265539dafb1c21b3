// GET /events over real HTTP: Server-Sent Events of the changes a caller may see, through a
// raw fetch (the wire format) and through the SDK's `events()` and `watch()`.
import { createClient, type EventMessage, isCofferApiError } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';

const password = 'events admin password';
const planted = 'planted-event-value-5d1f';

/** Collects what an SDK event stream yields until `until` holds; after `ms` it stops and returns what came. */
async function collect(
  open: (signal: AbortSignal) => AsyncGenerator<EventMessage>,
  until: (seen: EventMessage[]) => boolean,
  ms = 10_000,
): Promise<EventMessage[]> {
  const seen: EventMessage[] = [];
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), ms);
  try {
    for await (const message of open(stop.signal)) {
      seen.push(message);
      if (until(seen)) break;
    }
  } finally {
    clearTimeout(deadline);
  }
  return seen;
}

describe('GET /events', () => {
  let server: ServerProcess;
  let admin: ApiClient;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  async function tokenFor(username: string): Promise<string> {
    const user = await admin.post('/users', { username, password: `password of ${username}` });
    const login = await ApiClient.login(server.api, username, `password of ${username}`);
    const token = (await login.post('/tokens', { name: 'events', scope: 'read-write' })).body.token;
    ids[username] = user.body.id;
    return token;
  }

  beforeAll(async () => {
    server = await startServer({ env: { COFFER_ADMIN_PASSWORD: password } });
    admin = await ApiClient.login(server.api, 'admin', password);
    tokens.admin = (await admin.post('/tokens', { name: 'events', scope: 'read-write' })).body.token;
    tokens.ada = await tokenFor('ada');
    tokens.bob = await tokenFor('bob');
    tokens.carol = await tokenFor('carol');
    const team = await admin.post('/groups', { name: 'users-of-mail' });
    expect((await admin.put(`/groups/${team.body.id}/members/${ids.bob}`)).status).toBe(204);
    ids.team = team.body.id;
  });

  afterAll(() => cleanupServers());

  it('streams text/event-stream with ids, types and no values, each change once and in order', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.api}/events`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}:\n${text}`);
        text += value;
      }
    };
    await readUntil(/event: ready\n/);
    const created = await admin.post('/secrets', { name: 'wire', kind: 'generic', values: { v: planted } });
    await admin.patch('/secrets/wire/values', { values: { v: `${planted}-2` } });
    await readUntil(/event: secret\.updated\n/);
    controller.abort();
    const frames = text.split('\n\n').filter((f) => f.startsWith('id: '));
    expect(frames.map((f) => f.split('\n')[1])).toEqual(['event: secret.created', 'event: secret.updated']);
    const [first, second] = frames.map((f) => JSON.parse(f.split('\n')[2]!.slice('data: '.length)));
    expect(first).toMatchObject({
      access: 'read',
      type: 'secret.created',
      secretId: created.body.id,
      version: 1,
    });
    expect(second).toMatchObject({ type: 'secret.updated', name: 'wire', version: 2 });
    expect(Number(frames[1]!.split('\n')[0]!.slice(4))).toBeGreaterThan(
      Number(frames[0]!.split('\n')[0]!.slice(4)),
    );
    expect(text).not.toContain(planted);
  });

  it('shows each caller what its access allows: whole events with read, only that it changed with use, nothing without', async () => {
    const sdk = (who: string) => createClient({ baseUrl: server.url, token: tokens[who] });
    const ready: Promise<void>[] = [];
    const open = (who: string, until: (seen: EventMessage[]) => boolean) => {
      let connected!: () => void;
      ready.push(new Promise<void>((r) => (connected = r)));
      return collect((signal) => sdk(who).events({ signal, onReady: () => connected() }), until);
    };
    const updatedMail = (seen: EventMessage[]) => seen.some((e) => e.type === 'secret.updated');
    const ada = open('ada', updatedMail);
    const bob = open('bob', updatedMail);
    const carol = open('carol', (seen) => seen.length > 0);
    await Promise.all(ready);
    const mail = await admin.post('/secrets', { name: 'mail', kind: 'generic', values: { v: planted } });
    await admin.post('/secrets/mail/shares', { granteeType: 'user', granteeId: ids.ada, level: 'read' });
    await admin.post('/secrets/mail/shares', { granteeType: 'group', granteeId: ids.team, level: 'use' });
    await admin.patch('/secrets/mail/values', { values: { v: `${planted}-2` } });
    await sdk('carol').secrets.create({ name: 'carols', kind: 'generic', values: { v: '1' } });

    // What a caller may see is decided when the event is delivered, by its access then.
    const adaSaw = await ada;
    expect(adaSaw.every((e) => e.access === 'read' && e.secretId === mail.body.id && e.name === 'mail')).toBe(
      true,
    );
    expect(adaSaw.map((e) => e.type)).toEqual(expect.arrayContaining(['secret.shared', 'secret.updated']));
    const bobSaw = await bob;
    expect(bobSaw.length).toBeGreaterThan(0);
    for (const e of bobSaw) {
      expect(Object.keys(e).sort()).toEqual(['access', 'at', 'secretId', 'seq', 'type', 'version']);
      expect(e).toMatchObject({ access: 'use', secretId: mail.body.id });
    }
    expect(bobSaw.at(-1)).toMatchObject({ type: 'secret.updated', version: 2 });
    // Carol saw nothing of mail, only her own secret.
    expect(await carol).toEqual([expect.objectContaining({ type: 'secret.created', name: 'carols' })]);
    expect(JSON.stringify([adaSaw, bobSaw])).not.toContain(planted);
  });

  it('resumes after Last-Event-ID with what was missed', async () => {
    const sdk = createClient({ baseUrl: server.url, token: tokens.admin });
    const mark = await admin.post('/secrets', { name: 'resume-mark', kind: 'generic', values: { v: '0' } });
    const [marked] = await collect(
      (signal) => sdk.events({ signal, after: 0, secretIds: [mark.body.id] }),
      (seen) => seen.length === 1,
    );
    const after = (marked as { seq: number }).seq;
    await admin.post('/secrets', { name: 'resume-a', kind: 'generic', values: { v: '1' } });
    await admin.post('/secrets', { name: 'resume-b', kind: 'generic', values: { v: '2' } });
    const missed = await collect(
      (signal) => sdk.events({ signal, after }),
      (seen) => seen.length === 2,
    );
    expect(missed.map((e) => (e as { name: string }).name)).toEqual(['resume-a', 'resume-b']);
  });

  it('ends the stream with an error event when its token is revoked', async () => {
    const login = await ApiClient.login(server.api, 'ada', 'password of ada');
    const made = await login.post('/tokens', { name: 'short-lived', scope: 'read-only' });
    const sdk = createClient({ baseUrl: server.url, token: made.body.token });
    const stream = sdk.events()[Symbol.asyncIterator]();
    const next = stream.next();
    await new Promise((r) => setTimeout(r, 300));
    await login.delete(`/tokens/${made.body.info.id}`);
    // the next change she could see makes the server check her again, and end the stream
    await admin.patch('/secrets/mail/values', { values: { v: `${planted}-3` } });
    const outcome = await next.catch((err: unknown) => err);
    expect(isCofferApiError(outcome, 'unauthenticated')).toBe(true);
    // and a new stream is refused up front
    const refused = await fetch(`${server.api}/events`, {
      headers: { authorization: `Bearer ${made.body.token}` },
    });
    expect(refused.status).toBe(401);
  });

  it('lets SDK watch follow a secret through the stream, reading it only when it changed', async () => {
    const sdk = createClient({ baseUrl: server.url, token: tokens.admin });
    await sdk.secrets.create({ name: 'watched', kind: 'generic', values: { v: '1' } });
    const stop = new AbortController();
    const versions: number[] = [];
    const watching = (async () => {
      for await (const change of sdk.watch(['watched'], { mode: 'stream', signal: stop.signal })) {
        versions.push(change.version);
        if (change.version === 3) stop.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const from = new Date().toISOString();
    await sdk.secrets.updateValues('watched', { values: { v: '2' } });
    await new Promise((r) => setTimeout(r, 300));
    await sdk.secrets.updateValues('watched', { values: { v: '3' } });
    await watching;
    expect(versions).toEqual([2, 3]);
    // one metadata read per change, not one per poll interval
    const reads = await admin.get(`/audit?action=secret.read&from=${encodeURIComponent(from)}&limit=100`);
    const ofWatched = reads.body.items.filter(
      (r: { target?: { name?: string } }) => r.target?.name === 'watched',
    );
    expect(ofWatched.length).toBeLessThanOrEqual(3);
    expect(server.stdout() + server.stderr()).not.toContain(planted);
  });
});
