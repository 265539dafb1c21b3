import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { valuesKey } from '@coffer/backend-kubernetes';
import type { StoreDoubleHandle } from '@coffer/backend-kubernetes/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble, rejection } from './support.js';

// The double driven by a client nobody here wrote: Debian's kubectl (client-go). It discovers
// the API, prints tables the server renders, sends protobuf, merge and strategic merge patches,
// reads the OpenAPI v3 document for server-side field validation, and reads what Coffer wrote.
const kubectl = '/usr/bin/kubectl';
const run = promisify(execFile);
const present = existsSync(kubectl);
if (!present && process.env.CI === 'true') {
  throw new Error(`CI is set but ${kubectl} is missing (apt install kubernetes-client)`);
}
if (!present)
  console.log(`skipping the kubectl checks: ${kubectl} is not installed (apt install kubernetes-client)`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const secretId = '44444444-5555-4666-8777-888888888888';
const nameOf = (version: number) => `debian-${secretId}-v${version}`;

describe.skipIf(!present)('the double through kubectl (independent client)', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let double: StoreDoubleHandle;
  let home: string;

  async function k(args: string[], options: { context?: string; input?: string } = {}): Promise<Result> {
    const context = options.context === undefined ? [] : ['--context', options.context];
    try {
      const child = run(kubectl, [...context, ...args], {
        env: { PATH: '/usr/bin:/bin', HOME: home, KUBECONFIG: double.faults.kubeconfig.path },
        timeout: 60_000,
      });
      if (options.input !== undefined) {
        child.child.stdin?.end(options.input);
      }
      const { stdout, stderr } = await child;
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  }

  async function ok(args: string[], options: { context?: string; input?: string } = {}): Promise<string> {
    const out = await k(args, options);
    expect(out.code, `kubectl ${args.join(' ')}: ${out.stderr}`).toBe(0);
    return out.stdout;
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'coffer-kubectl-home-'));
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, clusterPrefix: 'debian' });
    double = made.double;
    for (const version of [1, 2, 3]) {
      await made.backend.put({ secretId, version }, { user: 'alice', version, password: `pw-${version}` });
    }
  });
  afterAll(async () => {
    await made?.close();
    if (home !== undefined) rmSync(home, { recursive: true, force: true });
  });

  it('talks to the double: discovery, server version', async () => {
    const version = JSON.parse(await ok(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.\d+\./);
    const resources = await ok(['api-resources', '--api-group=', '-o', 'name']);
    expect(resources.split('\n')).toContain('secrets');
  });

  it('reads a value Coffer wrote: -o json, its labels, the base64 of values.json', async () => {
    const secret = JSON.parse(await ok(['get', 'secret', nameOf(2), '-o', 'json'])) as {
      type: string;
      data: Record<string, string>;
      metadata: { labels: Record<string, string>; resourceVersion: string; uid: string };
    };
    expect(secret.type).toBe('Opaque');
    expect(JSON.parse(Buffer.from(secret.data[valuesKey]!, 'base64').toString('utf8'))).toEqual({
      user: 'alice',
      version: 2,
      password: 'pw-2',
    });
    expect(secret.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'coffer',
      'coffer.dev/deployment': made.deploymentId,
      'coffer.dev/cluster': 'debian',
      'coffer.dev/secret-id': secretId,
      'coffer.dev/version': '2',
    });
    expect(secret.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const jsonpath = await ok(['get', 'secret', nameOf(3), '-o', `jsonpath={.data.values\\.json}`]);
    expect(JSON.parse(Buffer.from(jsonpath, 'base64').toString('utf8')).password).toBe('pw-3');
  });

  it('selects by labels: equality, inequality, set-based and existence', async () => {
    const names = async (selector: string) =>
      (await ok(['get', 'secrets', '-l', selector, '-o', 'name'])).trim().split('\n').filter(Boolean).sort();
    const all = [1, 2, 3].map((v) => `secret/${nameOf(v)}`);
    expect(await names(`app.kubernetes.io/managed-by=coffer,coffer.dev/secret-id=${secretId}`)).toEqual(all);
    expect(await names(`coffer.dev/secret-id==${secretId},coffer.dev/version!=2`)).toEqual([all[0], all[2]]);
    expect(await names('coffer.dev/version in (1,3)')).toEqual([all[0], all[2]]);
    expect(await names('coffer.dev/version notin (1,3),coffer.dev/deployment')).toEqual([all[1]]);
    await ok(['create', 'secret', 'generic', 'hand-made', '--from-literal=a=b']);
    expect(await names('!coffer.dev/deployment')).toEqual(['secret/hand-made']);
    const table = await ok(['get', 'secrets', '-l', 'coffer.dev/version=1']);
    expect(table).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE/);
    expect(table).toContain(`${nameOf(1)}   Opaque   1`);
  });

  it('pages with limit and continue, and names a field selector it cannot use', async () => {
    const paged = await ok(['get', 'secrets', '--chunk-size=2', '-o', 'name']);
    expect(paged.trim().split('\n')).toHaveLength(4);
    const page = JSON.parse(await ok(['get', '--raw', '/api/v1/namespaces/coffer/secrets?limit=1'])) as {
      metadata: { continue?: string; resourceVersion: string };
      items: unknown[];
    };
    expect(page.items).toHaveLength(1);
    expect(page.metadata.continue).toBeTruthy();
    const byName = await ok([
      'get',
      'secrets',
      '--field-selector',
      `metadata.name=${nameOf(1)}`,
      '-o',
      'name',
    ]);
    expect(byName.trim()).toBe(`secret/${nameOf(1)}`);
    const bad = await k(['get', 'secrets', '--field-selector', 'data.password=x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: data.password');
  });

  it('sees Coffer refuse a value another deployment labels, and miss one kubectl deleted', async () => {
    await ok(['label', 'secret', nameOf(1), 'coffer.dev/deployment=someone-else', '--overwrite']);
    expect((await rejection(made.backend.get({ secretId, version: 1 }))).code).toBe('integrity');
    await ok(['delete', 'secret', nameOf(1)]);
    expect((await rejection(made.backend.get({ secretId, version: 1 }))).code).toBe('value_not_found');
    expect(await made.backend.list({ secretId })).toEqual([
      { secretId, version: 2 },
      { secretId, version: 3 },
    ]);
  });

  it('writes a Secret Coffer then reads: create generic (protobuf), label (merge patch)', async () => {
    const name = nameOf(9);
    await ok(['create', 'secret', 'generic', name, `--from-literal=${valuesKey}={"from":"kubectl","n":9}`]);
    await ok([
      'label',
      'secret',
      name,
      'app.kubernetes.io/managed-by=coffer',
      `coffer.dev/deployment=${made.deploymentId}`,
      'coffer.dev/cluster=debian',
      `coffer.dev/secret-id=${secretId}`,
      'coffer.dev/version=9',
    ]);
    expect(await made.backend.get({ secretId, version: 9 })).toEqual({ from: 'kubectl', n: 9 });
    expect((await made.backend.list({ secretId })).map((r) => r.version)).toEqual([2, 3, 9]);
  });

  it('applies a manifest twice (strategic merge patch, server-side field validation)', async () => {
    const dir = mkdtempSync(join(home, 'manifests-'));
    const manifest = (user: string, extra = '') =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\n  labels:\n    team: blue\ntype: Opaque\nstringData:\n  user: ${user}\n${extra}`;
    writeFileSync(join(dir, 'secret.yaml'), manifest('alice'));
    expect(await ok(['apply', '-f', join(dir, 'secret.yaml')])).toContain('secret/applied created');
    writeFileSync(join(dir, 'secret.yaml'), manifest('bob'));
    expect(await ok(['apply', '-f', join(dir, 'secret.yaml')])).toContain('secret/applied configured');
    const user = await ok(['get', 'secret', 'applied', '-o', 'jsonpath={.data.user}']);
    expect(Buffer.from(user, 'base64').toString('utf8')).toBe('bob');
    writeFileSync(join(dir, 'secret.yaml'), manifest('carol', 'spec: {}\n'));
    const strict = await k(['apply', '-f', join(dir, 'secret.yaml')]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('unknown field "spec"');
  });

  it("is refused past 1 MiB by the API server's own rule", async () => {
    const file = join(home, 'big.bin');
    writeFileSync(file, Buffer.alloc(1_048_577, 0x61));
    const big = await k(['create', 'secret', 'generic', 'too-big', `--from-file=b=${file}`]);
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain('Too long: must have at most 1048576 bytes');
    writeFileSync(file, Buffer.alloc(1_048_576, 0x61));
    await ok(['create', 'secret', 'generic', 'just-fits', `--from-file=b=${file}`]);
  });

  it('names and invalid names as the API server does', async () => {
    const bad = await k(['create', 'secret', 'generic', 'Not_Valid', '--from-literal=a=b']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('a lowercase RFC 1123 subdomain');
    const missing = await k(['get', 'secret', 'nope']);
    expect(missing.stderr).toContain('Error from server (NotFound): secrets "nope" not found');
  });

  it('gives a read-only service account reads and RBAC refusals for writes', async () => {
    const context = double.faults.kubeconfig.contexts.readOnly;
    expect(await ok(['get', 'secret', nameOf(2), '-o', 'name'], { context })).toContain(nameOf(2));
    const del = await k(['delete', 'secret', nameOf(2)], { context });
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain(
      `Error from server (Forbidden): secrets "${nameOf(2)}" is forbidden: User "system:serviceaccount:coffer:coffer-reader" cannot delete resource "secrets" in API group "" in the namespace "coffer"`,
    );
    const create = await k(['create', 'secret', 'generic', 'nope', '--from-literal=a=b'], { context });
    expect(create.stderr).toContain('cannot create resource "secrets"');
    const label = await k(['label', 'secret', nameOf(2), 'x=y'], { context });
    expect(label.stderr).toContain('cannot patch resource "secrets"');
    expect(await made.backend.get({ secretId, version: 2 })).toMatchObject({ version: 2 });
  });

  it('tells kubectl a token it does not know is unauthorized', async () => {
    const out = await k(['get', 'secrets'], { context: double.faults.kubeconfig.contexts.wrongToken });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('Unauthorized');
  });
});
