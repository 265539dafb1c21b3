import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../test-support/databases.js';
import { asToken } from './actor.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

/** Everything an error exposes: message, code, details, cause chain and stack. */
function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify(current));
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

await describeEachDialect('identity secrecy', (dialect) => {
  let fx: IdentityFixture;
  const errors: string[] = [];
  const planted: string[] = [];

  /** Runs an operation that may fail and keeps whatever its error exposes. */
  async function attempt(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      errors.push(describeError(err));
    }
  }

  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('never writes a password, token or session id into the audit log, an error or a log line', async () => {
    const password = 'PLANTED-pw-7f3a9c1e';
    const wrongPassword = 'PLANTED-wrong-2b8d';
    const newPassword = 'PLANTED-new-5e4f0a77';
    const tooLong = `PLANTED-long-${'z'.repeat(1100)}`;
    planted.push(password, wrongPassword, newPassword, tooLong.slice(0, 20));

    const ida = await fx.identity.createUser(fx.admin.actor, {
      username: 'ida',
      password,
      email: 'ida@example.com',
    });
    await attempt(() => fx.identity.createUser(fx.admin.actor, { username: 'ida', password }));
    await attempt(() => fx.identity.createUser(fx.admin.actor, { username: 'ida2', password: tooLong }));
    await attempt(() => fx.identity.createUser(fx.admin.actor, { username: 'ida3', password: 'PLANTED-s' }));
    await attempt(() =>
      fx.identity.createUser(fx.admin.actor, { username: 'ida4', type: 'service_account', password }),
    );
    await attempt(() => fx.identity.login('ida', wrongPassword));
    await attempt(() => fx.identity.login('ida', tooLong));
    // A password typed into the username field.
    await attempt(() => fx.identity.login(password, password));
    await attempt(() => fx.identity.login('nobody-here', password));
    const { actor } = await fx.identity.login('ida', password, { source: 'web', address: '127.0.0.1' });
    await attempt(() =>
      fx.identity.setPassword(actor, ida.id, { currentPassword: wrongPassword, newPassword }),
    );
    await attempt(() =>
      fx.identity.setPassword(actor, ida.id, { currentPassword: password, newPassword: 'PLANTED-s' }),
    );
    await fx.identity.setPassword(actor, ida.id, { currentPassword: password, newPassword });
    await fx.identity.setPassword(fx.admin.actor, ida.id, { newPassword: password });

    const { token, info } = await fx.identity.createToken(actor, { name: 'planted', scope: 'read-write' });
    planted.push(token.slice(4));
    const tokenActor = await fx.identity.authenticateToken(token, { address: '127.0.0.1' });
    await fx.identity.resolveActor(tokenActor);
    await attempt(() => fx.identity.authenticateToken(`${token}x`));
    await attempt(() => fx.identity.authenticateToken(token.replace(/.$/, token.endsWith('A') ? 'B' : 'A')));
    await fx.identity.revokeToken(actor, info.id);
    await attempt(() => fx.identity.authenticateToken(token));
    await attempt(() => fx.identity.resolveActor(asToken(info.id)));

    const { sessionId } = await fx.identity.createSession(ida.id, { address: '127.0.0.1' });
    planted.push(sessionId);
    await fx.identity.authenticateSession(sessionId);
    await fx.identity.revokeSession(sessionId);
    await attempt(() => fx.identity.authenticateSession(sessionId));

    await fx.audit.verify(fx.admin.actor);
    const exported: string[] = [];
    for await (const line of fx.audit.export(fx.admin.actor)) exported.push(line);

    const audit = JSON.stringify(await fx.database.db.selectFrom('audit_log').selectAll().execute());
    const logs = fx.logText();
    expect(errors.length).toBeGreaterThanOrEqual(12);
    expect(logs).toContain('login failed');
    expect(audit).toContain('auth.login_failed');
    for (const value of planted) {
      expect(audit.includes(value), `audit log holds ${value.slice(0, 12)}…`).toBe(false);
      expect(exported.join('').includes(value), 'export').toBe(false);
      expect(logs.includes(value), `logs hold ${value.slice(0, 12)}…`).toBe(false);
      for (const error of errors)
        expect(error.includes(value), `an error holds ${value.slice(0, 12)}…`).toBe(false);
    }
    // Nor anywhere in the identity tables, hashed or not.
    const tables = JSON.stringify([
      await fx.database.db.selectFrom('users').selectAll().execute(),
      await fx.database.db.selectFrom('api_tokens').selectAll().execute(),
      await fx.database.db.selectFrom('sessions').selectAll().execute(),
    ]);
    for (const value of planted) expect(tables.includes(value)).toBe(false);
  });
});
