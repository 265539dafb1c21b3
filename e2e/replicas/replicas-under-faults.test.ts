// Three Coffer servers on one PostgreSQL (and one MariaDB) database, nothing in front of them but
// their own ports, under a load of check-and-set writers and readers, while one server is killed
// with SIGKILL and started again, while a migration and a key rotation run, and while the
// database cuts every connection. Afterwards every acknowledged write is there, no version is
// lost or duplicated, the audit chain verifies, and nothing needed a restart to recover.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, probeDialect, type TestDatabase } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../packages/server/test/support/api-client.js';
import {
  cleanupServers,
  type ServerProcess,
  startServer,
  tempDir,
} from '../../packages/server/test/support/server-process.js';

const password = 'replica fault admin password';
const counters = 6;
const keep = 10;
const bulk = 300;

/** Three servers sharing a database, a key file, a config file and a values directory. */
class Cluster {
  readonly servers: (ServerProcess | undefined)[] = [undefined, undefined, undefined];
  readonly dataDirs: string[];
  readonly keyFile: string;
  readonly configFile: string;
  readonly valuesDir: string;

  constructor(readonly database: TestDatabase) {
    const dir = tempDir('coffer-replicas-');
    this.dataDirs = [0, 1, 2].map((i) => join(dir, `data-${i}`));
    this.keyFile = join(dir, 'keyring.json');
    this.configFile = join(dir, 'coffer.json');
    this.valuesDir = join(dir, 'values');
    this.configure('sql');
  }

  /** The config every server reads: the shared `file` backend, short leases for a quick takeover. */
  configure(backend: 'sql' | 'files'): void {
    writeFileSync(
      this.configFile,
      JSON.stringify({
        backends: { files: { type: 'file', directory: this.valuesDir } },
        backend,
        versions: { keep },
        // one secret at a time, so the move lasts long enough to kill its server in the middle
        migration: { leaseSeconds: 2, concurrency: 2 },
        jobs: { intervalSeconds: 1, leaseSeconds: 3, writeLeaseSeconds: 5 },
      }),
    );
  }

  async start(i: number): Promise<ServerProcess> {
    const server = await startServer({
      dataDir: this.dataDirs[i]!,
      env: {
        COFFER_DATABASE_URL: this.database.url,
        COFFER_KEY_FILE: this.keyFile,
        COFFER_CONFIG: this.configFile,
        COFFER_ADMIN_PASSWORD: password,
        COFFER_LOG_LEVEL: 'warn',
      },
      timeoutMs: 30_000,
    });
    this.servers[i] = server;
    return server;
  }

  kill(i: number): void {
    this.servers[i]?.process.kill('SIGKILL');
    this.servers[i] = undefined;
  }

  async stopAll(): Promise<void> {
    for (const [i, s] of this.servers.entries()) {
      await s?.stop();
      this.servers[i] = undefined;
    }
  }

  live(): ServerProcess[] {
    return this.servers.filter((s): s is ServerProcess => s !== undefined && s.process.exitCode === null);
  }

  any(): ServerProcess {
    const live = this.live();
    if (live.length === 0) {
      const ends = this.servers.map((x, i) =>
        x === undefined
          ? `${i}: killed`
          : `${i}: exited ${x.process.exitCode}\n${(x.stdout() + x.stderr()).slice(-2000)}`,
      );
      throw new Error(`no server is running:\n${ends.join('\n')}`);
    }
    return live[Math.floor(Math.random() * live.length)]!;
  }

  byPid(owner: string | null | undefined): number | undefined {
    if (owner === null || owner === undefined) return undefined;
    const pid = Number(owner.split(':')[1]);
    const i = this.servers.findIndex((s) => s?.process.pid === pid);
    return i === -1 ? undefined : i;
  }
}

interface LoadResult {
  /** Increments the server acknowledged (200), per counter. */
  acked: number[];
  /** Increments whose answer never came (the server died under them): they may have landed. */
  unknown: number[];
  /** Every status seen, and the problem codes of the 5xx. */
  statuses: Map<number, number>;
  codes5xx: Set<string>;
}

/**
 * Writers increment their own counter with check-and-set (read, then write n+1 with If-Match),
 * readers reveal random secrets, each request to a random live server, until the deadline.
 */
async function runLoad(cluster: Cluster, token: string, ms: number, during?: (at: number) => Promise<void>) {
  const result: LoadResult = {
    acked: Array(counters).fill(0),
    unknown: Array(counters).fill(0),
    statuses: new Map(),
    codes5xx: new Set(),
  };
  const count = (status: number, body?: { code?: string }) => {
    result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
    if (status >= 500 && body?.code !== undefined) result.codes5xx.add(body.code);
  };
  const started = Date.now();
  const deadline = started + ms;
  const writer = async (c: number) => {
    while (Date.now() < deadline) {
      const api = new ApiClient(cluster.any().api, token);
      try {
        const read = await api.get(`/secrets/counter-${c}/values?reveal=true`);
        count(read.status, read.body);
        if (read.status !== 200) continue;
        const n = Number(read.body.values.n);
        const etag = read.headers.get('etag')!;
        let write: Awaited<ReturnType<ApiClient['patch']>>;
        try {
          write = await api.patch(
            `/secrets/counter-${c}/values`,
            { values: { n: n + 1 } },
            { headers: { 'if-match': etag } },
          );
        } catch {
          result.unknown[c]!++;
          continue;
        }
        count(write.status, write.body);
        if (write.status === 200) result.acked[c]!++;
        else if (write.status >= 500) result.unknown[c]!++;
      } catch {
        // the server went away before answering a read: nothing was written
      }
    }
  };
  const reader = async () => {
    while (Date.now() < deadline) {
      try {
        const r = await new ApiClient(cluster.any().api, token).get(
          `/secrets/seed-${Math.floor(Math.random() * 40)}/values?reveal=true`,
        );
        count(r.status, r.body);
      } catch {
        // a killed server
      }
    }
  };
  const workers = [...Array.from({ length: counters }, (_, c) => writer(c)), reader(), reader()];
  if (during !== undefined) workers.push(during(started));
  await Promise.all(workers);
  return result;
}

/** Every counter holds each acknowledged increment exactly once, in contiguous versions. */
async function expectCountersConsistent(cluster: Cluster, token: string, load: LoadResult[]): Promise<void> {
  const api = new ApiClient(cluster.any().api, token);
  for (let c = 0; c < counters; c++) {
    const acked = load.reduce((sum, l) => sum + l.acked[c]!, 0);
    const unknown = load.reduce((sum, l) => sum + l.unknown[c]!, 0);
    const values = await api.get(`/secrets/counter-${c}/values?reveal=true`);
    expect(values.status).toBe(200);
    const n = Number(values.body.values.n);
    expect(n, `counter ${c}: acknowledged ${acked}, unknown ${unknown}`).toBeGreaterThanOrEqual(acked);
    expect(n).toBeLessThanOrEqual(acked + unknown);
    // version k holds n = k - 1: no version lost, none written twice
    const meta = await api.get(`/secrets/counter-${c}`);
    expect(meta.body.currentVersion).toBe(n + 1);
    const versions = await api.get(`/secrets/counter-${c}/versions?limit=100`);
    const kept = versions.body.items.map((v: { version: number }) => v.version);
    expect(kept).toEqual(Array.from({ length: Math.min(keep, n + 1) }, (_, i) => n + 1 - i));
    for (const version of kept.slice(0, 3)) {
      const old = await api.get(`/secrets/counter-${c}/values?reveal=true&version=${version}`);
      expect(Number(old.body.values.n)).toBe(version - 1);
    }
  }
}

async function expectAuditIntact(cluster: Cluster, token: string): Promise<void> {
  const verify = await new ApiClient(cluster.any().api, token).post('/audit/verify');
  expect(verify.status).toBe(200);
  expect(verify.body).toMatchObject({ ok: true });
}

/** Cuts every connection the servers hold to the database, as a failover or a DBA would. */
async function cutConnections(database: TestDatabase): Promise<number> {
  const name = new URL(database.url).pathname.slice(1);
  if (database.dialect === 'postgres') {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: database.url.replace(/\/[^/]+$/, '/test') });
    await admin.connect();
    try {
      const r = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [name],
      );
      return r.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  }
  const mysql = await import('mysql2/promise');
  const admin = await mysql.createConnection({ uri: database.url.replace(/\/[^/]+$/, '/test') });
  try {
    const [rows] = await admin.query(
      'select id from information_schema.processlist where db = ? and id <> connection_id()',
      [name],
    );
    for (const row of rows as { id: number }[])
      await admin.query(`kill connection ${Number(row.id)}`).catch(() => {});
    return (rows as unknown[]).length;
  } finally {
    await admin.end();
  }
}

for (const dialect of ['postgres', 'mysql'] as const) {
  const availability = await probeDialect(dialect);
  describe.skipIf(!availability.available)(
    `three servers on one ${dialect === 'postgres' ? 'PostgreSQL' : 'MariaDB'} database under faults${availability.available ? '' : ` (skipped: ${availability.reason})`}`,
    () => {
      let database: TestDatabase;
      let cluster: Cluster;
      let token: string;
      const loads: LoadResult[] = [];

      beforeAll(async () => {
        database = await createTestDatabase(dialect);
        cluster = new Cluster(database);
        await cluster.start(0);
        await Promise.all([cluster.start(1), cluster.start(2)]);
        const admin = await ApiClient.login(cluster.servers[0]!.api, 'admin', password);
        token = (await admin.post('/tokens', { name: 'load', scope: 'read-write' })).body.token;
        const api = new ApiClient(cluster.servers[0]!.api, token);
        for (let c = 0; c < counters; c++) {
          expect(
            (await api.post('/secrets', { name: `counter-${c}`, kind: 'generic', values: { n: 0 } })).status,
          ).toBe(201);
        }
        for (let i = 0; i < 40; i++) {
          await api.post('/secrets', {
            name: `seed-${i}`,
            kind: 'api-token',
            values: { token: `seed-value-${i}` },
          });
        }
      }, 120_000);

      afterAll(async () => {
        await cleanupServers();
        await database?.drop();
      });

      it('loses no acknowledged write when a server is killed mid-load and started again', async () => {
        const load = await runLoad(cluster, token, 6000, async (started) => {
          await vi.waitUntil(() => Date.now() - started > 1500, { timeout: 5000, interval: 50 });
          cluster.kill(2);
          await vi.waitUntil(() => Date.now() - started > 3000, { timeout: 5000, interval: 50 });
          await cluster.start(2);
        });
        loads.push(load);
        expect(load.acked.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
        // no 500s: the only failures are lost races (412) and, while a server died, unanswered requests
        expect([...load.statuses.keys()].filter((s) => s >= 500 && s !== 503)).toEqual([]);
        await expectCountersConsistent(cluster, token, loads);
        await expectAuditIntact(cluster, token);
      }, 120_000);

      it('finishes a migration and a key rotation whose server was killed, and loses nothing', async () => {
        // More secrets, so the move takes long enough to kill its server in the middle.
        const api = new ApiClient(cluster.any().api, token);
        await Promise.all(
          Array.from({ length: 4 }, async (_, w) => {
            for (let i = w; i < bulk; i += 4) {
              await api.post('/secrets', {
                name: `bulk-${i}`,
                kind: 'generic',
                values: { v: `bulk value ${i}` },
              });
            }
          }),
        );
        await cluster.stopAll();
        cluster.configure('files');
        await Promise.all([0, 1, 2].map((i) => cluster.start(i)));
        const rotated = await new ApiClient(cluster.any().api, token).post('/keyring/rotate');
        expect(rotated.status).toBe(200);
        const killed: string[] = [];
        const load = await runLoad(cluster, token, 8000, async () => {
          // Kill whichever server is moving the secrets, and whichever re-wraps, mid-way.
          await vi
            .waitUntil(
              async () => {
                const s = await new ApiClient(cluster.any().api, token).get('/migration');
                return s.body.state === 'running' && s.body.done > 0 ? s.body : false;
              },
              { timeout: 20_000, interval: 50 },
            )
            .then(async (status) => {
              const i = cluster.byPid(status.runningOn);
              if (i !== undefined) {
                killed.push(`migration on server ${i} at ${status.done}/${status.total}`);
                cluster.kill(i);
              }
            });
          const keyring = await new ApiClient(cluster.any().api, token).get('/keyring');
          const j = cluster.byPid(keyring.body.rewrap.runningOn);
          if (j !== undefined && cluster.servers[j] !== undefined) {
            killed.push(`re-wrap on server ${j}`);
            cluster.kill(j);
          }
          await new Promise((r) => setTimeout(r, 2500));
          for (const i of [0, 1, 2]) if (cluster.servers[i] === undefined) await cluster.start(i);
        });
        loads.push(load);
        expect(killed.length, 'a server was killed in the middle of the migration').toBeGreaterThan(0);
        // Another server took the run over once its lease ran out, and finished it. A counter its
        // writer kept writing all along may have been passed over as busy; the operator's retry
        // (coffer migrate start --retry-failed) moves it once the load is gone.
        const finished = await vi.waitFor(
          async () => {
            const s = await new ApiClient(cluster.any().api, token).get('/migration');
            // `failed` with nothing failed is the killed server's run before another took it over
            const ended = s.body.state === 'done' || (s.body.state === 'failed' && s.body.failed > 0);
            expect(ended, `${killed.join('; ')}: ${JSON.stringify(s.body)}`).toBe(true);
            return s.body;
          },
          { timeout: 60_000, interval: 250 },
        );
        for (const failure of finished.failures) {
          expect(failure.reason, killed.join('; ')).toMatch(/kept being written/);
          expect(failure.name).toMatch(/^counter-/);
        }
        if (finished.failed > 0) {
          const retried = await new ApiClient(cluster.any().api, token).post('/migration', {
            retryFailed: true,
          });
          expect(retried.status).toBe(202);
        }
        await vi.waitFor(
          async () => {
            const s = await new ApiClient(cluster.any().api, token).get('/migration');
            expect(s.body, `${killed.join('; ')}: ${JSON.stringify(s.body)}`).toMatchObject({
              state: 'done',
              target: 'files',
              failed: 0,
            });
          },
          { timeout: 60_000, interval: 250 },
        );
        await vi.waitFor(
          async () => {
            const k = await new ApiClient(cluster.any().api, token).get('/keyring');
            expect(k.body.rewrap.state).toBe('idle');
            expect(k.body.missingKeyIds).toEqual([]);
          },
          { timeout: 60_000, interval: 250 },
        );
        const backends = await new ApiClient(cluster.any().api, token).get('/backends');
        const files = backends.body.items.find((b: { name: string }) => b.name === 'files');
        const sql = backends.body.items.find((b: { name: string }) => b.name === 'sql');
        expect(sql.secrets).toBe(0);
        expect(files.secrets).toBeGreaterThanOrEqual(bulk + 40 + counters);
        const check = new ApiClient(cluster.any().api, token);
        for (const i of [0, 57, 133, bulk - 1]) {
          expect((await check.get(`/secrets/bulk-${i}/values?reveal=true`)).body.values.v).toBe(
            `bulk value ${i}`,
          );
        }
        await expectCountersConsistent(cluster, token, loads);
        await expectAuditIntact(cluster, token);
      }, 240_000);

      it('answers 503 while the database cuts every connection, and recovers without a restart', async () => {
        const load = await runLoad(cluster, token, 5000, async (started) => {
          await vi.waitUntil(() => Date.now() - started > 1500, { timeout: 5000, interval: 50 });
          expect(await cutConnections(database)).toBeGreaterThan(0);
        });
        loads.push(load);
        const failures = [...load.statuses.entries()].filter(([s]) => s >= 500);
        // a failure is a clear 503 naming the database, never a 500
        const errors = cluster
          .live()
          .flatMap((x) => (x.stdout() + x.stderr()).split('\n').filter((l) => l.includes('"level":50')))
          .slice(0, 3)
          .join('\n');
        expect(
          failures.map(([s]) => s).every((s) => s === 503),
          `${JSON.stringify([...load.statuses])}\n${errors}`,
        ).toBe(true);
        expect([...load.codes5xx].every((c) => c === 'database_unavailable')).toBe(true);
        for (const server of cluster.live()) {
          await vi.waitFor(
            async () => {
              expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
              expect((await new ApiClient(server.api, token).get('/secrets?limit=1')).status).toBe(200);
            },
            { timeout: 15_000, interval: 200 },
          );
        }
        await expectCountersConsistent(cluster, token, loads);
        await expectAuditIntact(cluster, token);
      }, 120_000);
    },
  );
}
