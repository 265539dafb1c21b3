// The HTTP server over loopback, measured with autocannon: reveal one secret, list a page of
// secrets, create and update secrets, each beside a bare Fastify route measured in the same
// run (the floor any route over this stack can reach), and the server's RSS. The Coffer server
// is the real process (`packages/server/dist/main.js`) on the embedded SQLite default; the bare
// route runs in its own process too, so both share the machine the same way.
//
// BENCH_DURATION (seconds per run, default 5) and BENCH_CONNECTIONS (default 16) tune it.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from './support.js';

const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === '--bare-server') {
  // The baseline: a bare Fastify 5 app with one JSON route of each method, nothing else.
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  const view = {
    secretId: '00000000-0000-4000-8000-000000000000',
    version: 1,
    values: { token: 'x'.repeat(32) },
    revealed: true,
    maskedFields: [],
  };
  app.get('/bare', async () => view);
  app.post('/bare', async (request, reply) =>
    reply.code(201).send({ received: Object.keys(request.body ?? {}) }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening ${app.server.address().port}\n`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
} else {
  await main();
}

function startProcess(args, env) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => {
    out += c;
  });
  return { child, output: () => out };
}

async function waitFor(proc, pattern) {
  for (let i = 0; i < 400; i++) {
    const match = pattern.exec(proc.output());
    if (match) return match;
    if (proc.child.exitCode !== null) throw new Error(`process exited:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern}`);
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const duration = Number(process.env.BENCH_DURATION ?? 5);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
  const dir = mkdtempSync(join(tmpdir(), 'coffer-http-bench-'));
  const password = 'benchmark admin password';
  const coffer = startProcess([join(here, '../packages/server/dist/main.js')], {
    COFFER_DATA_DIR: join(dir, 'data'),
    COFFER_PORT: '0',
    COFFER_ADMIN_PASSWORD: password,
    COFFER_LOG_LEVEL: 'warn',
  });
  const bare = startProcess([join(here, 'http.bench.js'), '--bare-server'], {});
  try {
    const base = (await waitFor(coffer, /Coffer is running at (\S+)/))[1];
    const barePort = (await waitFor(bare, /listening (\d+)/))[1];
    const api = `${base}/api/v1`;

    const login = await fetch(`${api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const { csrfToken } = await login.json();
    const created = await fetch(`${api}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ name: 'bench', scope: 'read-write' }),
    });
    const { token } = await created.json();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const ids = [];
    for (let i = 0; i < 200; i++) {
      const response = await fetch(`${api}/secrets`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          name: `seed-${String(i).padStart(4, '0')}`,
          kind: 'api-token',
          values: { baseUrl: 'https://api.example.com', token: `t-${i}-${'x'.repeat(24)}` },
        }),
      });
      if (response.status !== 201)
        throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
      ids.push((await response.json()).id);
    }
    const startRss = rssMiB(coffer.child.pid);

    const run = (title, options) =>
      new Promise((resolve, reject) => {
        autocannon({ connections, duration, ...options }, (err, result) => {
          if (err) reject(err);
          else resolve({ title, result });
        });
      });
    let next = 0;
    const pickId = () => ids[next++ % ids.length];

    const bareGet = await run('bare GET', { url: `http://127.0.0.1:${barePort}/bare` });
    const reveal = await run('reveal', {
      url: `${api}/secrets/${ids[0]}/values?reveal=true`,
      headers: auth,
    });
    const list = await run('list', { url: `${api}/secrets?limit=100`, headers: auth });
    const barePost = await run('bare POST', {
      url: `http://127.0.0.1:${barePort}/bare`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', kind: 'api-token', values: { token: 'y' } }),
    });
    const create = await run('create', {
      url: `${api}/secrets`,
      method: 'POST',
      headers: auth,
      idReplacement: true,
      body: JSON.stringify({ name: 'b-[<id>]', kind: 'api-token', values: { token: 'token-[<id>]' } }),
    });
    const update = await run('update', {
      url: `${api}/secrets`,
      headers: auth,
      requests: [
        {
          method: 'PATCH',
          setupRequest: (request) => ({
            ...request,
            path: `/api/v1/secrets/${pickId()}/values`,
            body: JSON.stringify({ values: { token: `t-${next}-${Math.random()}` } }),
          }),
        },
      ],
    });
    const endRss = rssMiB(coffer.child.pid);
    const bareRss = rssMiB(bare.child.pid);

    const row = (name, { result }, { result: baseline }) => [
      name,
      result.requests.average.toFixed(0),
      result.latency.p50.toFixed(1),
      result.latency.p99.toFixed(1),
      `${result.non2xx + result.errors}`,
      baseline.requests.average.toFixed(0),
      baseline.latency.p50.toFixed(1),
      baseline.latency.p99.toFixed(1),
      `${((result.requests.average / baseline.requests.average) * 100).toFixed(1)}%`,
    ];
    console.log(
      `autocannon, ${connections} connections, ${duration} s per run, over loopback; SQLite default\n`,
    );
    printTable(
      [
        'operation',
        'req/s',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'bare req/s',
        'bare p50',
        'bare p99',
        'coffer / bare',
      ],
      [
        row('reveal one secret (GET values?reveal=true)', reveal, bareGet),
        row('list secrets (GET, page of 100)', list, bareGet),
        row('create secret (POST)', create, barePost),
        row('update values (PATCH, new version)', update, barePost),
      ],
    );
    console.log(
      `\nCoffer server RSS: ${startRss.rss.toFixed(0)} MiB after seeding, ${endRss.rss.toFixed(0)} MiB at the end ` +
        `(peak ${endRss.peak.toFixed(0)} MiB); bare Fastify: ${bareRss.rss.toFixed(0)} MiB ` +
        `(peak ${bareRss.peak.toFixed(0)} MiB)`,
    );
  } finally {
    coffer.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    await Promise.all(
      [coffer.child, bare.child].map(
        (c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
