// The `coffer` command's start-up cost: `coffer run -- true` (no references: no request, no
// SDK) beside `node -e 0` measured in the same run, the floor any Node CLI starts from. Also
// `coffer --version`, and `coffer run` resolving one reference against a real server process
// (one request: an audited reveal of the secret's values). Runs are interleaved so every case
// shares the machine's noise alike.
//
// BENCH_CLI_RUNS (runs per measurement, default 30) tunes it.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from './support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = join(here, '../packages/cli/dist/bin.js');
const runs = Number(process.env.BENCH_CLI_RUNS ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'coffer-cli-bench-'));
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_')));
const env = { ...baseEnv, XDG_CONFIG_HOME: join(dir, 'config') };

function timeOnce(args, extraEnv = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { min: sorted[0], median, mean, p90: sorted[Math.floor(sorted.length * 0.9)] };
}

async function startServer() {
  const password = 'cli benchmark admin password';
  const child = spawn(process.execPath, [join(here, '../packages/server/dist/main.js')], {
    env: {
      ...baseEnv,
      COFFER_DATA_DIR: join(dir, 'data'),
      COFFER_PORT: '0',
      COFFER_ADMIN_PASSWORD: password,
      COFFER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => {
    out += c;
  });
  for (let i = 0; i < 400 && !/Coffer is running at (\S+)/.test(out); i++)
    await new Promise((r) => setTimeout(r, 50));
  const url = /Coffer is running at (\S+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`the server did not start:\n${out}`);
  return { child, url, password };
}

const cases = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'coffer --version', args: [bin, '--version'] },
  { name: 'coffer run -- true', args: [bin, 'run', '--', 'true'] },
];

const server = await startServer();
try {
  const login = spawnSync(process.execPath, [bin, 'login', '-u', 'admin', '--password-stdin'], {
    env: { ...env, COFFER_ADDR: server.url },
    input: server.password,
  });
  if (login.status !== 0) throw new Error(`login failed: ${login.stderr}`);
  spawnSync(process.execPath, [bin, 'secret', 'create', 'bench', 'token=value'], {
    env: { ...env, COFFER_ADDR: server.url },
  });
  cases.push({
    name: 'coffer run --env T=bench.token -- true',
    args: [bin, 'run', '--env', 'T=bench.token', '--', 'true'],
    env: { COFFER_ADDR: server.url },
  });

  // Warm the file system cache once, then interleave.
  for (const c of cases) timeOnce(c.args, c.env);
  const samples = cases.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of cases.entries()) samples[j].push(timeOnce(c.args, c.env));
  }
  const baseline = stats(samples[0]).median;
  console.log(`wall time of a whole process, ${runs} interleaved runs each (ms)`);
  printTable(
    ['command', 'median', 'mean', 'min', 'p90', 'median / node -e 0'],
    cases.map((c, j) => {
      const s = stats(samples[j]);
      return [
        c.name,
        s.median.toFixed(1),
        s.mean.toFixed(1),
        s.min.toFixed(1),
        s.p90.toFixed(1),
        `${(s.median / baseline).toFixed(2)}x`,
      ];
    }),
  );
  const run = stats(samples[2]).median;
  console.log(
    `\ncoffer run -- true: ${run.toFixed(0)} ms (goal: well under 500 ms); ${(run - baseline).toFixed(0)} ms above node -e 0`,
  );
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
