import { Writable } from 'node:stream';
import { type AuditLog, createAuditLog } from '../../audit/audit-log.js';
import { type AuditService, createAuditService } from '../../audit/audit-service.js';
import { createLogger } from '../../logging/logger.js';
import type { Clock } from '../../shared/clock.js';
import { type CofferDatabase, openDatabase } from '../../storage/database.js';
import type { DialectName } from '../../storage/dialect.js';
import { migrateToLatest } from '../../storage/migrator.js';
import { createTestDatabase, type TestDatabase } from '../../test-support/databases.js';
import { type Actor, asToken, asUser } from '../actor.js';
import {
  createIdentityService,
  type IdentityService,
  type IdentityServiceOptions,
} from '../identity-service.js';

/** A clock tests can move forward. */
export interface MovableClock {
  clock: Clock;
  advance(seconds: number): void;
}

export function movableClock(start = Date.now()): MovableClock {
  let now = start;
  return {
    clock: () => new Date(now),
    advance(seconds) {
      now += seconds * 1000;
    },
  };
}

/** A migrated database of one dialect with the audit log, identity and audit services. */
export interface IdentityFixture {
  dialect: DialectName;
  testDb: TestDatabase;
  database: CofferDatabase;
  time: MovableClock;
  auditLog: AuditLog;
  identity: IdentityService;
  audit: AuditService;
  /** Everything the services logged so far, as raw JSON lines. */
  logText(): string;
  admin: { id: string; actor: Actor; password: string };
  /** A member with a password; usernames must be unique per fixture. */
  member(username: string): Promise<{ id: string; actor: Actor; password: string }>;
  /** A service account with a read-write token made by the admin. */
  serviceAccount(username: string): Promise<{ id: string; actor: Actor; token: string; tokenId: string }>;
  close(): Promise<void>;
}

export const adminPassword = 'admin password for tests';

/**
 * Creates and migrates a fresh database and bootstraps it with a known admin password.
 *
 * @example
 * let fx: IdentityFixture;
 * beforeAll(async () => { fx = await createIdentityFixture(dialect); });
 * afterAll(() => fx?.close());
 */
export async function createIdentityFixture(
  dialect: DialectName,
  options: Partial<Pick<IdentityServiceOptions, 'sessions' | 'passwordHasher'>> = {},
): Promise<IdentityFixture> {
  const testDb = await createTestDatabase(dialect);
  const database = await openDatabase(testDb.url);
  await migrateToLatest(database);
  const time = movableClock();
  let logged = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logged += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'trace', destination });
  const auditLog = createAuditLog({ database, clock: time.clock });
  const identity = createIdentityService({
    database,
    clock: time.clock,
    audit: auditLog,
    logger,
    ...options,
  });
  const audit = createAuditService({ database, audit: auditLog, identity });
  const boot = await identity.bootstrap({ adminPassword });
  if (!boot.created) throw new Error('bootstrap did not create the admin');
  const { actor: admin } = await identity.login(boot.username, adminPassword);

  return {
    dialect,
    testDb,
    database,
    time,
    auditLog,
    identity,
    audit,
    logText: () => logged,
    admin: { id: admin.principal.id, actor: admin, password: adminPassword },
    async member(username) {
      const password = `password of ${username}`;
      const user = await identity.createUser(admin, { username, password, email: `${username}@example.com` });
      return { id: user.id, actor: asUser(user.id), password };
    },
    async serviceAccount(username) {
      const user = await identity.createUser(admin, { username, type: 'service_account' });
      const { token, info } = await identity.createToken(admin, {
        userId: user.id,
        name: 'test',
        scope: 'read-write',
      });
      return { id: user.id, actor: asToken(info.id), token, tokenId: info.id };
    },
    async close() {
      await database.close();
      await testDb.drop();
    },
  };
}
