// The standalone server process: first start and restart, configuration from variables and a
// file (and its errors), TLS, the web UI hook, and graceful shutdown with a request in flight.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTrimHeap } from '../src/native-memory.js';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, startFailing, startServer, tempDir } from './support/server-process.js';
import { httpsRequest, selfSignedCertificate } from './support/tls.js';

afterAll(() => cleanupServers());

describe('starting the server', () => {
  it('creates ./.coffer-data, prints the URL and the first admin once, and restarts without it', async () => {
    const cwd = tempDir();
    const started = performance.now();
    const first = await startServer({ dataDir: null, cwd });
    const startMs = performance.now() - started;
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const out = first.stdout();
    expect(out).toContain(`Coffer is running at ${first.url}`);
    expect(out).toContain('username: admin');
    const password = /password: (\S+)/.exec(out)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    const dataDir = join(cwd, '.coffer-data');
    expect(existsSync(join(dataDir, 'coffer.db'))).toBe(true);
    expect(statSync(join(dataDir, 'keyring.json')).mode & 0o777).toBe(0o600);
    // The password went to the banner only, never into a log line.
    expect(out.split('\n').filter((l) => l.startsWith('{') && l.includes(password))).toEqual([]);

    const admin = await ApiClient.login(first.api, 'admin', password);
    await admin.post('/secrets', { name: 'survives', kind: 'generic', values: { a: 'b' } });
    expect(await first.stop()).toBe(0);

    const second = await startServer({ dataDir: null, cwd });
    expect(second.stdout()).toContain('Coffer is running at');
    expect(second.stdout()).not.toContain('username: admin');
    expect(second.stdout()).not.toContain(password);
    const again = await ApiClient.login(second.api, 'admin', password);
    expect((await again.get('/secrets/survives')).status).toBe(200);
    await second.stop();
    // Not asserted (tests do not time things); printed for whoever reads the run.
    console.log(`first start to listening: ${Math.round(startMs)} ms`);
  });

  it('still shows the first admin password when the first start cannot listen', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = join(tempDir(), 'data');
    try {
      const failed = await startFailing({ COFFER_PORT: String(port), COFFER_DATA_DIR: dataDir });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('the address is already in use');
      const password = /password: (\S+)/.exec(failed.stdout)?.[1];
      expect(password).toBeDefined();
      const next = await startServer({ dataDir });
      expect(next.stdout()).not.toContain('username: admin');
      await ApiClient.login(next.api, 'admin', password!);
      await next.stop();
    } finally {
      blocker.close();
    }
  });

  it('names the database setting and the reason when the database cannot be reached', async () => {
    const failed = await startFailing({
      COFFER_DATABASE_URL: 'postgres://postgres:hunter2-db@127.0.0.1:1/coffer',
      COFFER_DATA_DIR: join(tempDir(), 'data'),
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('cannot use the database postgres://postgres:***@127.0.0.1:1/coffer');
    expect(failed.stderr).toContain('COFFER_DATABASE_URL');
    expect(failed.stderr).toContain('ECONNREFUSED');
    expect(failed.stdout + failed.stderr).not.toContain('hunter2-db');
  });

  it('stops with every configuration problem named at once', async () => {
    const dir = tempDir();
    const file = join(dir, 'coffer.yaml');
    writeFileSync(file, 'server:\n  port: 99999\n  colour: blue\nversions:\n  keep: "ten"\n');
    const secretPassword = 'short-pw';
    const result = await startFailing({
      COFFER_CONFIG: file,
      COFFER_PORT: undefined,
      COFFER_DATA_DIR: join(dir, 'data'),
      COFFER_LOG_LEVEL: 'loud',
      COFFER_TRUST_PROXY: 'maybe',
      COFFER_BODY_LIMIT: '12kb',
      COFFER_ADMIN_PASSWORD: secretPassword,
    });
    expect(result.code).toBe(1);
    const err = result.stderr;
    expect(err).toContain('the configuration is invalid');
    expect(err).toMatch(
      /COFFER_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/,
    );
    expect(err).toMatch(/COFFER_TRUST_PROXY: must be true or false/);
    expect(err).toMatch(/COFFER_BODY_LIMIT: must be a number of bytes from 1024 to \d+/);
    expect(err).toMatch(
      /coffer\.yaml: server\.port \(or COFFER_PORT\): must be a whole number from 0 to 65535/,
    );
    expect(err).toMatch(/coffer\.yaml: server: unknown key\(s\): colour/);
    expect(err).toMatch(/coffer\.yaml: versions\.keep \(or COFFER_VERSIONS_KEEP\)/);
    expect(err).toMatch(/COFFER_ADMIN_PASSWORD: /);
    expect(err).not.toContain(secretPassword);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('names a missing config file, a bad TLS path and a bad database URL', async () => {
    const dir = tempDir();
    const missing = await startFailing({ COFFER_CONFIG: join(dir, 'nope.json') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/COFFER_CONFIG: cannot read .*nope\.json \(ENOENT\)/);
    const tls = await startFailing({
      COFFER_TLS_CERT: join(dir, 'c.pem'),
      COFFER_TLS_KEY: join(dir, 'k.pem'),
    });
    expect(tls.stderr).toMatch(/COFFER_TLS_CERT: cannot read .*c\.pem \(ENOENT\)/);
    expect(tls.stderr).toMatch(/COFFER_TLS_KEY: cannot read/);
    const db = await startFailing({ COFFER_DATA_DIR: join(dir, 'd'), COFFER_DATABASE_URL: 'oracle://x' });
    expect(db.code).toBe(1);
    expect(db.stderr).toMatch(/database\.url: use sqlite:PATH, postgres:\/\/\.\.\. or mysql:\/\/\.\.\./);
  });

  it('reads a YAML config file, lets variables override it, and warns about unknown variables', async () => {
    const dir = tempDir();
    const file = join(dir, 'coffer.yml');
    writeFileSync(
      file,
      [
        `dataDir: ${join(dir, 'data')}`,
        'adminPassword: file admin password',
        'backends:',
        '  files:',
        '    type: file',
        'migration:',
        '  onStart: false',
        'server:',
        '  port: 1',
        '  docs: false',
        '',
      ].join('\n'),
    );
    const server = await startServer({
      dataDir: null,
      env: { COFFER_CONFIG: file, COFFER_PORT: '0', COFFER_COLOUR: 'blue' },
    });
    expect(server.stderr()).toContain('COFFER_COLOUR is not a Coffer setting and is ignored');
    expect(server.stdout()).toContain('password: the one given in the configuration');
    expect((await fetch(`${server.api}/docs/`)).status).toBe(404);
    const admin = await ApiClient.login(server.api, 'admin', 'file admin password');
    await admin.post('/secrets', { name: 'to-move', kind: 'generic', values: { a: 'moved value' } });

    // The configured second backend, and a migration to it started over the API.
    const backends = await admin.get('/backends');
    expect(backends.body.items.map((b: { name: string }) => b.name)).toEqual(['files', 'sql']);
    const started = await admin.post('/migration', { target: 'files' });
    expect(started.status, started.text).toBe(202);
    let status = started.body;
    for (let i = 0; i < 100 && status.state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await admin.get('/migration')).body;
    }
    expect(status).toMatchObject({ state: 'done', target: 'files', total: 1, done: 1, failed: 0 });
    expect((await admin.get('/backends/files')).body.secrets).toBe(1);
    expect((await admin.get('/secrets/to-move/values?reveal=true')).body.values.a).toBe('moved value');
    expect((await admin.get('/migration/failures')).body).toEqual({ items: [], nextCursor: null });
    expect((await admin.post('/migration/drop-kept-sources')).body).toEqual({ dropped: 0 });
    expectProblemCode(await admin.post('/migration', { target: 'nowhere' }));
    await server.stop();
  });
});

function expectProblemCode(response: { status: number; body: { code: string } }) {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(typeof response.body.code).toBe('string');
}

describe('TLS', () => {
  it('serves HTTPS with a given certificate, and marks the session cookie Secure', async () => {
    const dir = tempDir();
    const { cert, key, pem } = selfSignedCertificate(dir);
    const server = await startServer({
      env: { COFFER_TLS_CERT: cert, COFFER_TLS_KEY: key, COFFER_ADMIN_PASSWORD: 'tls admin password' },
    });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsRequest(`${server.url}/healthz`, { ca: pem });
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const login = await httpsRequest(`${server.api}/auth/login`, {
      ca: pem,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'tls admin password' }),
    });
    expect(login.status).toBe(200);
    const cookies = login.headers['set-cookie'] as string[];
    expect(cookies.find((c) => c.startsWith('coffer_session='))).toMatch(/; Secure/);
    expect(cookies.find((c) => c.startsWith('coffer_csrf='))).toMatch(/; Secure/);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow(); // not trusted without the CA
    await server.stop();
  });
});

describe('the web UI hook', () => {
  it('serves a built UI at / with a fallback to index.html for page routes', async () => {
    const web = join(tempDir(), 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Coffer UI</title>');
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
    const server = await startServer({ env: { COFFER_WEB_DIR: web } });
    expect(await (await fetch(`${server.url}/`)).text()).toContain('Coffer UI');
    expect(await (await fetch(`${server.url}/assets/app.js`)).text()).toBe('console.log(1)');
    const deep = await fetch(`${server.url}/secrets/mail`, { headers: { accept: 'text/html' } });
    expect(await deep.text()).toContain('Coffer UI');
    const api = await fetch(`${server.api}/nope`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/problem\+json/);
    await server.stop();

    const none = await startServer({ env: { COFFER_WEB_DIR: join(web, 'missing') } });
    const root = await fetch(`${none.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/api/v1/docs');
    await none.stop();
  });
});

/** Debian's Chromium, when installed (CI installs it; see .ci/run). */
function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

describe('the docs page', () => {
  const chromium = chromiumPath();
  if (chromium === undefined) {
    if (process.env.CI) throw new Error('the docs-page browser test must run in CI, but chromium is missing');
    console.warn('skipping the docs-page browser test: chromium is not installed (apt-get install chromium)');
  }
  it.skipIf(chromium === undefined)(
    'renders in a real browser under its CSP, with nothing fetched from elsewhere',
    async () => {
      const server = await startServer();
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        execFile(
          chromium!,
          [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--enable-logging=stderr',
            '--v=1',
            '--virtual-time-budget=5000',
            '--dump-dom',
            `${server.api}/docs/`,
          ],
          { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
          (err, out, errOut) => (err ? reject(err) : resolve({ stdout: out, stderr: errOut })),
        );
      });
      expect(stdout).toContain('Coffer API');
      expect(stdout).toContain('data-path="/api/v1/secrets/{ref}/values"');
      expect(stderr).not.toMatch(/Content Security Policy/i);
      await server.stop();
    },
  );
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, finishes the request in flight, closes and exits 0', async () => {
    // An SMTP "server" that accepts and never greets: a connection test against it runs
    // until its timeout, which makes a request that is reliably in flight.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const server = await startServer({
      env: { COFFER_ADMIN_PASSWORD: 'shutdown admin password', COFFER_CONNECTION_TEST_TIMEOUT_MS: '2000' },
    });
    try {
      const admin = await ApiClient.login(server.api, 'admin', 'shutdown admin password');
      await admin.post('/secrets', { name: 'slow-mail', kind: 'smtp', values: { host: '127.0.0.1', port } });
      const inFlight = admin.post('/secrets/slow-mail/test');
      await new Promise((r) => setTimeout(r, 400));
      expect(sockets.length).toBe(1); // the test is connected and waiting
      server.process.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow(); // no longer accepting
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ ok: false, kind: 'smtp' });
      expect(await server.exited).toBe(0);
      expect(server.stdout()).toContain('shutting down: finishing in-flight requests');
      expect(server.stdout()).toContain('"msg":"stopped"');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe('memory when idle', () => {
  it('gives memory back after ~7 s without requests, unless COFFER_RELEASE_IDLE_MEMORY=false', async () => {
    const password = 'idle memory admin password';
    const env = { COFFER_LOG_LEVEL: 'debug', COFFER_ADMIN_PASSWORD: password };
    const [releasing, keeping] = await Promise.all([
      startServer({ env }),
      startServer({ env: { ...env, COFFER_RELEASE_IDLE_MEMORY: 'false' } }),
    ]);
    const released = () =>
      releasing
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"idle: memory released"'))
        .map((l) => JSON.parse(l) as { heapBeforeMiB: number; heapAfterMiB: number; heapTrimmed?: boolean });
    // Work that leaves garbage behind, on both.
    const admins = await Promise.all(
      [releasing, keeping].map((s) => ApiClient.login(s.api, 'admin', password)),
    );
    for (const admin of admins) {
      for (let i = 0; i < 200; i++) {
        await admin.post('/secrets', { name: `idle-${i}`, kind: 'generic', values: { a: 'x'.repeat(2000) } });
      }
    }
    const workDone = released().length;
    for (let i = 0; i < 100 && released().length === workDone; i++)
      await new Promise((r) => setTimeout(r, 200));
    const [release] = released().slice(workDone);
    expect(release).toBeDefined();
    // V8's heap shrank: its young generation and the old generation's sparse pages went back.
    expect(release!.heapAfterMiB).toBeLessThan(release!.heapBeforeMiB);
    // And the C heap was trimmed, where the native helper is built (native-memory.test.ts
    // requires it in CI on Linux).
    expect(release!.heapTrimmed).toBe(loadTrimHeap() === undefined ? undefined : true);
    // Still serving, with the data intact.
    expect((await admins[0]!.get('/secrets/idle-199')).status).toBe(200);
    expect(keeping.stdout()).not.toContain('idle: memory released');
    await Promise.all([releasing.stop(), keeping.stop()]);
  }, 60_000);
});
