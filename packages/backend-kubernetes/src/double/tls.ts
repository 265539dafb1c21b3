import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate authority and a server certificate it signed, all PEM. */
export interface DoubleTls {
  caCert: string;
  serverKey: string;
  serverCert: string;
}

/** Where openssl is: Debian's, or the first on PATH. */
export function opensslPath(): string | undefined {
  if (existsSync('/usr/bin/openssl')) return '/usr/bin/openssl';
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'openssl'))) return join(dir, 'openssl');
  }
  return undefined;
}

let made: Promise<DoubleTls> | undefined;

/**
 * A self-signed CA (P-256, one day) and a certificate for 127.0.0.1 and localhost signed by it,
 * made with openssl once per process, as a cluster's CA and its API server's serving certificate.
 */
export function doubleTls(): Promise<DoubleTls> {
  made ??= makeTls().catch((err: unknown) => {
    made = undefined;
    throw err;
  });
  return made;
}

async function makeTls(): Promise<DoubleTls> {
  const openssl = opensslPath();
  if (openssl === undefined) {
    throw new Error(
      'the Kubernetes double serves HTTPS with a certificate made by openssl, which is not installed; start it with { tls: false }',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'coffer-k8s-tls-'));
  const at = (file: string) => join(dir, file);
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await run(openssl, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=coffer-double-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run(openssl, [
      'req',
      '-new',
      ...ec,
      '-keyout',
      at('server.key'),
      '-out',
      at('server.csr'),
      '-subj',
      '/CN=kube-apiserver',
    ]);
    writeFileSync(
      at('server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc',
      ].join('\n'),
    );
    await run(openssl, [
      'x509',
      '-req',
      '-in',
      at('server.csr'),
      '-CA',
      at('ca.crt'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-out',
      at('server.crt'),
      '-days',
      '2',
      '-extfile',
      at('server.ext'),
    ]);
    return {
      caCert: readFileSync(at('ca.crt'), 'utf8'),
      serverKey: readFileSync(at('server.key'), 'utf8'),
      serverCert: readFileSync(at('server.crt'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
