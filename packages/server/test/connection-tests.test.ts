// POST /secrets/{ref}/test against real services on loopback: an SMTP server (smtp-server,
// with STARTTLS), the PostgreSQL and MariaDB servers of this machine, and a local HTTP server.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { adminUrls, probeDialect } from '@coffer/core/test-support';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer, tempDir } from './support/server-process.js';
import { selfSignedCertificate } from './support/tls.js';

const planted: string[] = [];
function secret(label: string): string {
  const value = `${label}-${randomBytes(6).toString('hex')}`;
  planted.push(value);
  return value;
}

const smtpPassword = secret('smtp-pass');
const apiToken = secret('api-token');
const basicPassword = secret('basic-pass');
const jiraToken = secret('jira-token');
const clientSecret = secret('client-secret');
const mysqlPassword = secret('mysql-pass');

let server: ServerProcess;
let admin: ApiClient;
let bob: ApiClient;
let opsGroupId: string;
let tlsSmtp: SMTPServer;
let plainSmtp: SMTPServer;
let tlsSmtpPort: number;
let plainSmtpPort: number;
let http: Server;
let httpBase: string;
const smtpSessions: { secure: boolean; user: string }[] = [];

function listen(target: { listen(port: number, host: string, cb: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
}

function basicOf(request: IncomingMessage): [string, string] | undefined {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString();
  const colon = decoded.indexOf(':');
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

beforeAll(async () => {
  const dir = tempDir();
  const tls = selfSignedCertificate(dir);
  const onAuth: ConstructorParameters<typeof SMTPServer>[0]['onAuth'] = (auth, session, callback) => {
    if (auth.username === 'mailer' && auth.password === smtpPassword) {
      smtpSessions.push({ secure: session.secure, user: auth.username });
      callback(null, { user: auth.username });
      return;
    }
    // A careless server that echoes what it was sent, encoded too: the reason must not carry it.
    const echoed = Buffer.from(`\0${auth.username}\0${auth.password}`).toString('base64');
    callback(Object.assign(new Error(`bad credentials ${auth.password} (${echoed})`), { responseCode: 535 }));
  };
  tlsSmtp = new SMTPServer({
    key: readFileSync(tls.key),
    cert: readFileSync(tls.cert),
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth,
    logger: false,
  });
  plainSmtp = new SMTPServer({
    hideSTARTTLS: true,
    allowInsecureAuth: true,
    authMethods: ['PLAIN'],
    onAuth,
    logger: false,
  });
  tlsSmtp.on('error', () => {});
  plainSmtp.on('error', () => {});
  await listen(tlsSmtp.server);
  await listen(plainSmtp.server);
  tlsSmtpPort = (tlsSmtp.server.address() as { port: number }).port;
  plainSmtpPort = (plainSmtp.server.address() as { port: number }).port;

  http = createServer((request, response) => {
    const url = request.url ?? '/';
    const deny = () => {
      // Echoes the credentials in the body; bodies never reach a reason.
      response
        .writeHead(401, { 'content-type': 'text/plain' })
        .end(`denied: ${request.headers.authorization}`);
    };
    if (url === '/api/') {
      if (
        request.headers.authorization === `Bearer ${apiToken}` ||
        request.headers['x-api-key'] === apiToken
      ) {
        response.writeHead(200).end('{}');
      } else deny();
    } else if (url === '/basic') {
      const creds = basicOf(request);
      if (creds?.[0] === 'ops' && creds[1] === basicPassword) response.writeHead(204).end();
      else deny();
    } else if (url === '/rest/api/3/myself') {
      const creds = basicOf(request);
      if (creds?.[0] === 'bot@example.com' && creds[1] === jiraToken)
        response.writeHead(200).end('{"accountId":"1"}');
      else deny();
    } else if (url === '/oauth/token' && request.method === 'POST') {
      let body = '';
      request.on('data', (c) => {
        body += c;
      });
      request.on('end', () => {
        const creds = basicOf(request);
        const form = new URLSearchParams(body);
        if (
          creds?.[0] === 'client-1' &&
          creds[1] === clientSecret &&
          form.get('grant_type') === 'client_credentials'
        ) {
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end('{"access_token":"at","token_type":"bearer"}');
        } else if (creds?.[0] === 'client-2') {
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"error":"nope"}');
        } else deny();
      });
    } else if (url === '/redirect') {
      response.writeHead(302, { location: 'http://example.invalid/' }).end();
    } else if (url === '/hang') {
      // Never answers.
    } else {
      response.writeHead(404).end();
    }
  });
  await listen(http);
  httpBase = `http://127.0.0.1:${(http.address() as { port: number }).port}`;

  server = await startServer({
    env: {
      COFFER_ADMIN_PASSWORD: 'connection admin password',
      COFFER_CONNECTION_TEST_TIMEOUT_MS: '1500',
      COFFER_LOG_LEVEL: 'debug',
      // The SMTP server's self-signed certificate is trusted the way an operator trusts a private CA.
      NODE_EXTRA_CA_CERTS: tls.cert,
    },
  });
  admin = await ApiClient.login(server.api, 'admin', 'connection admin password');
  await admin.post('/users', { username: 'bob', password: 'bob password 12345' });
  const bobId = (await admin.get('/users?query=bob')).body.items[0].id;
  opsGroupId = (await admin.post('/groups', { name: 'ops' })).body.id;
  await admin.put(`/groups/${opsGroupId}/members/${bobId}`);
  bob = await ApiClient.login(server.api, 'bob', 'bob password 12345');
});

afterAll(async () => {
  await server?.stop();
  await cleanupServers();
  await new Promise<void>((r) => (tlsSmtp ? tlsSmtp.close(() => r()) : r()));
  await new Promise<void>((r) => (plainSmtp ? plainSmtp.close(() => r()) : r()));
  http?.closeAllConnections();
  http?.close();
});

async function createAndTest(name: string, kind: string, values: Record<string, unknown>) {
  const created = await admin.post('/secrets', { name, kind, values });
  expect(created.status, created.text).toBe(201);
  return admin.post(`/secrets/${name}/test`);
}

function expectNoSecretIn(text: string) {
  for (const value of planted) {
    expect(text).not.toContain(value);
    expect(text).not.toContain(Buffer.from(value).toString('base64').replace(/=+$/, ''));
  }
}

describe('SMTP', () => {
  it('connects, upgrades with STARTTLS and logs in', async () => {
    const result = await createAndTest('smtp-ok', 'smtp', {
      host: '127.0.0.1',
      port: tlsSmtpPort,
      username: 'mailer',
      password: smtpPassword,
    });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({
      ok: true,
      kind: 'smtp',
      details: { tls: true, authenticated: true },
    });
    expect(smtpSessions.at(-1)).toEqual({ secure: true, user: 'mailer' });
  });

  it('reports refused credentials with a reason that never echoes the password', async () => {
    const wrong = secret('wrong-smtp');
    const result = await createAndTest('smtp-bad', 'smtp', {
      host: '127.0.0.1',
      port: tlsSmtpPort,
      username: 'mailer',
      password: wrong,
    });
    expect(result.body.ok).toBe(false);
    expect(result.body.reason).toMatch(/^authentication failed: 535/);
    expect(result.body.reason).toContain('[redacted]');
    expectNoSecretIn(result.text);
  });

  it('talks plain SMTP when security is none', async () => {
    const result = await createAndTest('smtp-plain', 'smtp', {
      host: '127.0.0.1',
      port: plainSmtpPort,
      security: 'none',
      username: 'mailer',
      password: smtpPassword,
    });
    expect(result.body).toMatchObject({ ok: true, details: { tls: false, authenticated: true } });
  });

  it('fails clearly when nothing listens', async () => {
    const result = await createAndTest('smtp-closed', 'smtp', {
      host: '127.0.0.1',
      port: 9,
      password: smtpPassword,
    });
    expect(result.body.ok).toBe(false);
    expect(result.body.reason).toMatch(/ECONNREFUSED/);
  });
});

describe('databases', () => {
  it('runs SELECT 1 on PostgreSQL, and names a missing database', async (context) => {
    const pg = await probeDialect('postgres');
    if (!pg.available) context.skip(pg.reason);
    const url = new URL(adminUrls.postgres);
    const base = {
      engine: 'postgres',
      host: url.hostname,
      port: Number(url.port || 5432),
      username: decodeURIComponent(url.username),
      password: secret('pg-pass'),
    };
    const ok = await createAndTest('pg-ok', 'database', { ...base, database: url.pathname.slice(1) });
    expect(ok.body, ok.text).toMatchObject({ ok: true, kind: 'database' });
    const missing = await createAndTest('pg-missing', 'database', {
      ...base,
      database: 'no_such_database_here',
    });
    expect(missing.body.ok).toBe(false);
    expect(missing.body.reason).toMatch(/does not exist/);
    expectNoSecretIn(missing.text);
  });

  it('runs SELECT 1 on MariaDB, and reports a wrong password without it', async (context) => {
    const my = await probeDialect('mysql');
    if (!my.available) context.skip(my.reason);
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: adminUrls.mysql });
    const user = `coffer_ct_${randomBytes(3).toString('hex')}`;
    await connection.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${mysqlPassword}'`);
    try {
      const url = new URL(adminUrls.mysql);
      const base = { engine: 'mariadb', host: url.hostname, port: Number(url.port || 3306), username: user };
      const ok = await createAndTest('my-ok', 'database', {
        ...base,
        database: 'information_schema',
        password: mysqlPassword,
      });
      expect(ok.body, ok.text).toMatchObject({ ok: true });
      const wrong = await createAndTest('my-wrong', 'database', {
        ...base,
        database: 'information_schema',
        password: secret('my-wrong'),
      });
      expect(wrong.body.ok).toBe(false);
      expect(wrong.body.reason).toMatch(/Access denied/);
      expectNoSecretIn(wrong.text);
    } finally {
      await connection.query(`DROP USER '${user}'@'%'`);
      await connection.end();
    }
  });

  it('refuses engines it cannot test with 422 unsupported', async () => {
    const result = await createAndTest('mongo', 'database', {
      engine: 'mongodb',
      host: '127.0.0.1',
      database: 'x',
      username: 'u',
      password: secret('mongo'),
    });
    expect(result.status).toBe(422);
    expect(result.body).toMatchObject({ code: 'unsupported' });
    expect(result.body.detail).toContain('mongodb');
  });
});

describe('HTTP kinds', () => {
  it('tests an API token with its header and scheme', async () => {
    const bearer = await createAndTest('api-bearer', 'api-token', {
      baseUrl: `${httpBase}/api/`,
      token: apiToken,
    });
    expect(bearer.body).toMatchObject({ ok: true, details: { status: 200 } });
    const header = await createAndTest('api-header', 'api-token', {
      baseUrl: `${httpBase}/api/`,
      token: apiToken,
      headerName: 'X-API-Key',
      scheme: '',
    });
    expect(header.body.ok).toBe(true);
    const wrong = await createAndTest('api-wrong', 'api-token', {
      baseUrl: `${httpBase}/api/`,
      token: secret('nope'),
    });
    expect(wrong.body).toMatchObject({ ok: false, reason: 'the server refused the credentials (HTTP 401)' });
    expectNoSecretIn(wrong.text);
  });

  it('tests basic auth, Jira and an OAuth client', async () => {
    const basic = await createAndTest('basic', 'basic-auth', {
      url: `${httpBase}/basic`,
      username: 'ops',
      password: basicPassword,
    });
    expect(basic.body.ok).toBe(true);
    const jira = await createAndTest('jira', 'jira', {
      baseUrl: httpBase,
      email: 'bot@example.com',
      apiToken: jiraToken,
    });
    expect(jira.body.ok).toBe(true);
    const oauth = await createAndTest('oauth', 'oauth-client', {
      tokenUrl: `${httpBase}/oauth/token`,
      clientId: 'client-1',
      clientSecret,
    });
    expect(oauth.body.ok).toBe(true);
    const noToken = await createAndTest('oauth-empty', 'oauth-client', {
      tokenUrl: `${httpBase}/oauth/token`,
      clientId: 'client-2',
      clientSecret: secret('c2'),
    });
    expect(noToken.body).toMatchObject({
      ok: false,
      reason: 'the token endpoint answered without an access token',
    });
  });

  it('does not follow redirects, and gives up at the timeout', async () => {
    const redirect = await createAndTest('redirect', 'basic-auth', {
      url: `${httpBase}/redirect`,
      username: 'ops',
      password: basicPassword,
    });
    expect(redirect.body).toMatchObject({ ok: false, reason: expect.stringContaining('HTTP 302') });
    const hang = await createAndTest('hang', 'api-token', { baseUrl: `${httpBase}/hang`, token: apiToken });
    expect(hang.body.ok).toBe(false);
    expect(hang.body.reason).toMatch(/within 1500 ms/);
  });
});

describe('who may test', () => {
  it('lets a group member with only `use` test, never see', async () => {
    const share = await admin.post('/secrets/api-bearer/shares', {
      granteeType: 'group',
      granteeId: opsGroupId,
    });
    expect(share.body.level).toBe('use');
    const id = (await admin.get('/secrets/api-bearer')).body.id;
    const result = await bob.post(`/secrets/${id}/test`);
    expect(result.status, result.text).toBe(200);
    expect(result.body.ok).toBe(true);
    expect((await bob.get(`/secrets/${id}/values`)).status).toBe(403);
    const audit = await admin.get(`/audit?targetId=${id}&action=secret.use`);
    expect(audit.body.items[0]).toMatchObject({ purpose: 'connection-test', actor: { name: 'bob' } });
    // No share at all: as if it did not exist.
    expect((await bob.post('/secrets/smtp-ok/test')).status).toBe(404);
  });

  it('kept every secret out of the server log', () => {
    expectNoSecretIn(server.stdout() + server.stderr());
  });
});
