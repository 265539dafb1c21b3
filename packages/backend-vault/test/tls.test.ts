import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendOnDouble, backendOnDouble, rejection } from './support.js';

// caCertFile and tlsServerName: the double behind a TLS terminator whose certificate (made here
// with openssl) names `vault.coffer.test` and is signed by nobody Node trusts.
const openssl = '/usr/bin/openssl';
const present = existsSync(openssl);
if (!present) {
  if (process.env.CI === 'true') throw new Error(`CI is set but ${openssl} is missing`);
  console.log(`skipping the TLS checks: ${openssl} is not installed`);
}

describe.skipIf(!present)('vault-kv over TLS', () => {
  let dir: string;
  let made: BackendOnDouble;
  let terminator: tls.Server;
  let address: string;
  const id = '22222222-3333-4444-8555-666666666666';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-vault-tls-'));
    execFileSync(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=vault.coffer.test',
        '-addext',
        'subjectAltName=DNS:vault.coffer.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, clusterPrefix: 'tls' });
    const target = new URL(made.double.url);
    terminator = tls.createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (socket) => {
        const upstream = net.connect(Number(target.port), '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', () => resolve()));
    address = `https://127.0.0.1:${(terminator.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await made?.close();
    await new Promise((resolve) => terminator?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a certificate no trusted CA signed (unreachable, not retried)', async () => {
    const backend = await made.another({ address, maxAttempts: 3 }, made.deploymentId);
    const err = await rejection(backend.put({ secretId: id, version: 1 }, { a: 1 }));
    expect(err.details).toMatchObject({ reason: 'unreachable', attempts: 1 });
    expect(String(err.details.vendorCode)).toMatch(/CERT|SIGNED/);
  });

  it('refuses the right CA when the name does not match, and works with tlsServerName', async () => {
    const caCertFile = join(dir, 'cert.pem');
    const wrongName = await made.another({ address, caCertFile }, made.deploymentId);
    const err = await rejection(wrongName.put({ secretId: id, version: 1 }, { a: 1 }));
    expect(err.details).toMatchObject({ reason: 'unreachable', vendorCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const right = await made.another(
      { address, caCertFile, tlsServerName: 'vault.coffer.test' },
      made.deploymentId,
    );
    await right.put({ secretId: id, version: 1 }, { over: 'tls' });
    expect(await right.get({ secretId: id, version: 1 })).toEqual({ over: 'tls' });
  });

  it('fails the start naming caCertFile when it cannot be read', async () => {
    const err = await rejection(
      made.another({ address, caCertFile: join(dir, 'missing.pem') }, made.deploymentId),
    );
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('caCertFile');
  });
});
