import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCofferError } from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from './load-server-config.js';
import { envSettings } from './server-config.js';

function issuesOf(env: Record<string, string>): { path: string; message: string }[] {
  try {
    loadServerConfig(env);
  } catch (err) {
    if (isCofferError(err, 'invalid_config')) return err.details.issues ?? [];
    throw err;
  }
  throw new Error('expected invalid_config');
}

describe('loadServerConfig', () => {
  it('has documented defaults', () => {
    const { config } = loadServerConfig({});
    expect(config.server).toMatchObject({
      host: '127.0.0.1',
      port: 8470,
      logLevel: 'info',
      bodyLimit: 2 * 1024 * 1024,
      releaseIdleMemory: true,
    });
    expect(config.core.dataDir).toBe('.coffer-data');
  });

  it('reads variables with their types', () => {
    const { config } = loadServerConfig({
      COFFER_PORT: '9000',
      COFFER_TRUST_PROXY: 'yes',
      COFFER_DATABASE_URL: 'postgres://u:p@db/coffer',
      COFFER_BACKEND_MODULES: ' ./a.js, ./b.js ',
      COFFER_KEY_VARIABLE: 'MY_KEYS',
      COFFER_RECOVERY_WINDOW_DAYS: '7.5',
      COFFER_SQLITE_CACHE_MIB: '4',
      COFFER_SQLITE_CHECKPOINTS: 'inline',
      COFFER_RELEASE_IDLE_MEMORY: 'false',
    });
    expect(config.core.database?.sqliteCacheMiB).toBe(4);
    expect(config.core.database?.sqliteCheckpoints).toBe('inline');
    expect(config.server.releaseIdleMemory).toBe(false);
    expect(config.server.port).toBe(9000);
    expect(config.server.trustProxy).toBe(true);
    expect(config.core.database?.url).toBe('postgres://u:p@db/coffer');
    expect(config.core.backendModules).toEqual(['./a.js', './b.js']);
    expect(config.core.keyring).toEqual({ source: 'env', variable: 'MY_KEYS' });
    expect(config.core.recoveryWindowDays).toBe(7.5);
  });

  it('names every bad variable at once, quoting only values that are not secret', () => {
    const issues = issuesOf({
      COFFER_PORT: '80a',
      COFFER_HOST: '',
      COFFER_METRICS: 'sometimes',
      COFFER_DATABASE_URL: 'postgres://u:hunter2@db',
      COFFER_KEYRING_SOURCE: 'Vault Transit!',
      COFFER_ADMIN_PASSWORD: 'hunter2',
    });
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).toContain('COFFER_PORT: must be a whole number from 0 to 65535 (got "80a")');
    expect(text).toContain('COFFER_METRICS: must be true or false (got "sometimes")');
    expect(text).toMatch(/COFFER_KEYRING_SOURCE: /);
    expect(text).toMatch(/COFFER_ADMIN_PASSWORD: /);
    expect(text).not.toContain('hunter2');
  });

  it('reads JSON and YAML files, with variables over them, and names file keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-config-'));
    const yaml = join(dir, 'coffer.yaml');
    writeFileSync(yaml, 'server:\n  port: 1234\n  host: 0.0.0.0\nclusterPrefix: prod\n');
    const { config } = loadServerConfig({ COFFER_CONFIG: yaml, COFFER_PORT: '4321' });
    expect(config.server).toMatchObject({ port: 4321, host: '0.0.0.0' });
    expect(config.core.clusterPrefix).toBe('prod');
    expect(config.file).toBe(yaml);

    const json = join(dir, 'coffer.json');
    writeFileSync(json, JSON.stringify({ server: { port: 'x', tls: { cert: 1 } }, nope: true }));
    const issues = issuesOf({ COFFER_CONFIG: json });
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).toContain(`${json}: server.port (or COFFER_PORT): must be a whole number`);
    expect(text).toContain(
      `${json}: server.tls.cert (or COFFER_TLS_CERT): must be the path of a PEM certificate file`,
    );
    expect(text).toContain(`${json}: server.tls.key (or COFFER_TLS_KEY): `);
    expect(text).toContain(`${json}: unknown key(s): nope`);

    writeFileSync(json, '{"adminPassword": "hunter2", oops}');
    expect(issuesOf({ COFFER_CONFIG: json })).toEqual([
      { path: 'COFFER_CONFIG', message: `${json} is not valid JSON` },
    ]);
    writeFileSync(yaml, 'adminPassword: hunter2\n  bad: [indent\n');
    const yamlIssue = issuesOf({ COFFER_CONFIG: yaml })[0]!;
    expect(yamlIssue.message).toMatch(/is not valid YAML/);
    expect(yamlIssue.message).not.toContain('hunter2');
  });

  it('warns about unknown COFFER_ variables but not about test or key variables', () => {
    const { warnings } = loadServerConfig({
      COFFER_PROT: '1',
      COFFER_TEST_DIALECTS: 'sqlite',
      COFFER_MASTER_KEY: 'k',
    });
    expect(warnings).toEqual(['COFFER_PROT is not a Coffer setting and is ignored (see docs/server.md)']);
  });

  it('documents every variable in docs/server.md', () => {
    const doc = readFileSync(new URL('../../../../docs/server.md', import.meta.url), 'utf8');
    for (const { variable, path } of envSettings) {
      expect(doc, `docs/server.md does not document ${variable}`).toMatch(
        new RegExp(`\\|\\s*\`${variable}\`\\s*\\|\\s*\`${path.join('\\.')}\``),
      );
    }
  });
});
