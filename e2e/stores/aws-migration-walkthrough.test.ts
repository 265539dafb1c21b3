// The walk-through of docs/backends.md ("Moving a running server's values to AWS Secrets
// Manager and back"), step by step as an operator follows it: a real server process on SQLite,
// the real `coffer` binary, a config file that gains an `aws-secrets-manager` instance, a
// restart with `backend: aws`, `coffer migrate status --follow`, and the way back to `sql`.
// The store is the local double (AWS's JSON 1.1 protocol, SigV4 checked, quotas on), reached
// through the official SDK inside the server exactly as a real region would be.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-aws-secrets-manager/double';
import { type CofferClient, createClient } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, Cli, killCliProcesses } from '../../packages/cli/test/support/cli-process.js';
import {
  cleanupServers,
  type ServerProcess,
  startServer,
  tempDir,
} from '../../packages/server/test/support/server-process.js';

describe('moving a running server from sql to AWS Secrets Manager and back', () => {
  let double: StoreDoubleHandle;
  let dataDir: string;
  let configFile: string;
  let server: ServerProcess | undefined;
  const admin = () => new Cli({ COFFER_ADDR: server!.url });
  const secrets = Array.from({ length: 12 }, (_, i) => ({
    name: `walk-${String(i).padStart(2, '0')}`,
    token: `planted-walkthrough-token-${i}-${'x'.repeat(i)}`,
  }));

  /** Writes the config file the docs show, then (re)starts the server with it. */
  async function restartWith(backend: 'sql' | 'aws'): Promise<{ cli: Cli; sdk: CofferClient }> {
    writeFileSync(
      configFile,
      JSON.stringify({ backends: { aws: { type: 'aws-secrets-manager', ...double.settings } }, backend }),
    );
    if (server !== undefined) expect(await server.stop()).toBe(0);
    server = await startServer({
      dataDir,
      env: {
        COFFER_ADMIN_PASSWORD: adminPassword,
        COFFER_LOG_LEVEL: 'warn',
        COFFER_CONFIG: configFile,
        ...double.env,
      },
    });
    const cli = admin();
    await cli.ok(['login', '--username', 'admin', '--password-stdin'], { input: `${adminPassword}\n` });
    // The SDK does the bulk work (creating and reading a dozen secrets) so the test spends its
    // time on the migration, not on starting a CLI process per secret.
    const { token } = await cli.json(['token', 'create', 'walkthrough']);
    return { cli, sdk: createClient({ baseUrl: server.url, token }) };
  }

  async function awsSecretNames(): Promise<string[]> {
    const client = new SecretsManagerClient({
      region: String(double.settings.region),
      endpoint: double.url,
      credentials: {
        accessKeyId: double.env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: double.env.AWS_SECRET_ACCESS_KEY!,
      },
    });
    try {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListSecretsCommand({ NextToken: token }));
        for (const s of page.SecretList ?? []) names.push(s.Name!);
        token = page.NextToken;
      } while (token !== undefined);
      return names.sort();
    } finally {
      client.destroy();
    }
  }

  async function expectEveryValue(sdk: CofferClient): Promise<void> {
    for (const { name, token } of secrets) {
      expect((await sdk.secrets.values(name, { reveal: true })).values.token).toBe(token);
    }
  }

  beforeAll(async () => {
    double = await startStoreDouble();
    const dir = tempDir('coffer-aws-walkthrough-');
    dataDir = join(dir, 'data');
    configFile = join(dir, 'coffer.json');
  }, 60_000);

  afterAll(async () => {
    killCliProcesses();
    await cleanupServers();
    await double?.close();
  });

  it('starts on sql with the aws instance configured but unused', async () => {
    const { cli, sdk } = await restartWith('sql');
    for (const [i, { name, token }] of secrets.entries()) {
      const first = i < 4 ? `${token}-v1` : token;
      await sdk.secrets.create({ name, kind: 'api-token', values: { token: first } });
    }
    // a second version of some, so the move has history to carry; version 1 keeps a marker
    for (const { name, token } of secrets.slice(0, 4)) {
      await sdk.secrets.updateValues(name, { values: { token } });
    }
    const backends = await cli.json(['backend', 'list']);
    expect(backends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'sql', active: true, secrets: secrets.length }),
        expect.objectContaining({ name: 'aws', type: 'aws-secrets-manager', secrets: 0 }),
      ]),
    );
    expect(await awsSecretNames()).toEqual([]);
  }, 120_000);

  it('moves every value to AWS after a restart with backend: aws, watched with migrate status --follow', async () => {
    const { cli, sdk } = await restartWith('aws');
    const followed = await cli.json(['migrate', 'status', '--follow']);
    expect(followed).toMatchObject({ state: 'done', target: 'aws', failed: 0 });
    const backends = await cli.json(['backend', 'list']);
    expect(backends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'aws', active: true, secrets: secrets.length }),
        expect.objectContaining({ name: 'sql', secrets: 0 }),
      ]),
    );
    // one AWS secret per Coffer secret, named by id under the cluster prefix, never by name
    const ids = (await cli.json(['secret', 'list'])).map((s: { id: string }) => s.id).sort();
    expect(ids).toHaveLength(secrets.length);
    expect(await awsSecretNames()).toEqual(ids.map((id: string) => `coffer/${id}`));
    await expectEveryValue(sdk);
    // the history came along: version 1 of an updated secret still reads
    const history = await cli.json(['secret', 'history', secrets[0]!.name]);
    expect(history.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const first = await cli.json(['secret', 'get', secrets[0]!.name, '--version', '1', '--reveal']);
    expect(first.values.token).toBe(`${secrets[0]!.token}-v1`);
    // and new secrets now go to AWS
    await cli.ok(['secret', 'create', 'walk-new', '--kind', 'api-token', 'token=made-on-aws']);
    secrets.push({ name: 'walk-new', token: 'made-on-aws' });
    expect(await awsSecretNames()).toHaveLength(secrets.length);
  }, 180_000);

  it('moves them back to sql after a restart with backend: sql, leaving AWS with nothing live', async () => {
    const { cli, sdk } = await restartWith('sql');
    const followed = await cli.json(['migrate', 'status', '--follow']);
    expect(followed).toMatchObject({ state: 'done', target: 'sql', failed: 0 });
    const backends = await cli.json(['backend', 'list']);
    expect(backends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'sql', active: true, secrets: secrets.length }),
        expect.objectContaining({ name: 'aws', secrets: 0 }),
      ]),
    );
    await expectEveryValue(sdk);
    // the AWS copies are deleted within their recovery window, so ListSecrets no longer shows them
    expect(await awsSecretNames()).toEqual([]);
    // nothing a user typed or stored reached the server's output
    const output = server!.stdout() + server!.stderr();
    for (const { token } of secrets) expect(output).not.toContain(token);
  }, 180_000);
});
