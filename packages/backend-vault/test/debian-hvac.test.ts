import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendOnDouble, backendOnDouble } from './support.js';

// The double driven by a client nobody here wrote: Debian's python3-hvac, with its own request
// building (the LIST method, ?list=true with strict_http, HEAD for health) and its own reading
// of Vault's answers and errors. A double that strays from Vault's API fails here.
const python = '/usr/bin/python3';
const run = promisify(execFile);
const script = fileURLToPath(new URL('./hvac-client.py', import.meta.url));

async function hasHvac(): Promise<boolean> {
  if (!existsSync(python)) return false;
  try {
    await run(python, ['-c', 'import hvac'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const present = await hasHvac();
if (!present) {
  if (process.env.CI === 'true')
    throw new Error(`CI is set but ${python} cannot import hvac (apt install python3-hvac)`);
  console.log(`skipping the hvac checks: ${python} cannot import hvac (apt install python3-hvac)`);
}

describe.skipIf(!present)('the Vault double through hvac (independent client)', () => {
  let made: BackendOnDouble;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { clusterPrefix: 'debian', throttle: false });
  });
  afterAll(() => made?.close());

  it('serves KV v2, metadata, tokens, AppRole, Transit and namespaces as hvac expects, and a value Coffer wrote', async () => {
    const secretId = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    await made.backend.put({ secretId, version: 1 }, { host: 'smtp.example.com', port: 587, tls: true });
    await made.backend.put({ secretId, version: 2 }, { host: 'smtp.example.com', port: 465, tls: true });
    const namespace = made.double.faults.createNamespace('team-a');
    let out: { stdout: string; stderr: string };
    try {
      out = await run(python, [script], {
        timeout: 60_000,
        env: {
          PATH: '/usr/bin:/bin',
          HOME: '/nonexistent',
          VAULT_ADDR: made.double.url,
          ROOT_TOKEN: made.double.faults.tokens.root,
          READ_ONLY_TOKEN: made.double.faults.tokens.readOnly,
          NAMESPACE: namespace,
          COFFER_PATH: made.backend.pathOf(secretId),
        },
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`hvac script failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}`);
    }
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as {
      ok: boolean;
      coffer: { values: unknown; version: string };
      coffer_metadata: Record<string, string>;
      coffer_cas_required: boolean;
    };
    expect(summary.ok).toBe(true);
    expect(summary.coffer).toEqual({
      values: { host: 'smtp.example.com', port: 465, tls: true },
      version: '2',
    });
    expect(summary.coffer_metadata).toEqual({
      'coffer-deployment': made.deploymentId,
      'coffer-cluster': 'debian',
      'coffer-secret-id': secretId,
      'coffer-v1': '1',
      'coffer-v2': '2',
    });
    expect(summary.coffer_cas_required).toBe(true);
  });
});
