// docs/vault-api.md promises that its hvac and node-vault programs run as written and print
// what the page shows under them. This runs each one (a `python vault-example` or
// `js vault-example` block, followed by a `text` block with its output) against a real server
// with the Vault door on, with VAULT_ADDR and VAULT_TOKEN set as the page says.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const page = readFileSync(join(root, 'docs', 'vault-api.md'), 'utf8');
const python = '/usr/bin/python3';

interface Example {
  language: 'python' | 'js';
  code: string;
  output: string;
}

const examples: Example[] = [
  ...page.matchAll(/```(python|js) vault-example\n([\s\S]*?)```\n+```text\n([\s\S]*?)```/g),
].map((m) => ({ language: m[1] as Example['language'], code: m[2]!, output: m[3]! }));

const hvacMissing = (() => {
  const probe = spawnSync(python, ['-c', 'import hvac'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${python} cannot import hvac (apt install python3-hvac)`;
})();
if (hvacMissing !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI needs Debian's python3-hvac: ${hvacMissing}`);
  console.log(`skipping the hvac example of docs/vault-api.md: ${hvacMissing}`);
}

afterAll(() => cleanupServers());

describe('docs/vault-api.md', () => {
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const password = 'a long admin password for the docs examples';
    server = await startServer({ env: { COFFER_ADMIN_PASSWORD: password, COFFER_VAULT_API: 'true' } });
    const admin = await ApiClient.login(server.api, 'admin', password);
    const bot = await admin.post('/users', { username: 'docs-bot', type: 'service_account' });
    const token = await admin.post('/tokens', { userId: bot.body.id, name: 'docs', scope: 'read-write' });
    expect(token.status, token.text).toBe(201);
    env = { VAULT_ADDR: server.url, VAULT_TOKEN: token.body.token };
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('has an hvac and a node-vault example, each with its output', () => {
    expect(examples.map((e) => e.language).sort()).toEqual(['js', 'python']);
  });

  for (const [i, example] of examples.entries()) {
    const skip = example.language === 'python' && hvacMissing !== undefined;
    it.skipIf(skip)(
      `${example.language} example ${i + 1} runs as written and prints what the page shows`,
      () => {
        // Under the repository's node_modules, so 'node-vault' resolves as for a user.
        const dir = join(root, 'node_modules', '.cache', 'coffer-vault-docs');
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `example-${i + 1}.${example.language === 'js' ? 'mjs' : 'py'}`);
        writeFileSync(file, example.code);
        const run = spawnSync(example.language === 'js' ? process.execPath : python, [file], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, ...env },
          timeout: 60_000,
        });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(run.stdout).toBe(example.output);
      },
    );
  }
});
