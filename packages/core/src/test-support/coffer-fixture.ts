import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Coffer, type CreateCofferOptions, createCoffer } from '../coffer.js';
import type { CofferConfigInput } from '../config/coffer-config.js';
import { type Actor, asToken, asUser, type TokenScope } from '../identity/actor.js';
import { type MovableClock, movableClock } from '../identity/test-support/identity-fixture.js';
import { createLogger } from '../logging/logger.js';
import type { DialectName } from '../storage/dialect.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const fixtureAdminPassword = 'admin password for tests';

export interface TestPrincipal {
  id: string;
  actor: Actor;
}

/** A Coffer engine on a fresh database of one dialect, with its own data directory and captured logs. */
export interface CofferFixture {
  dialect: DialectName;
  coffer: Coffer;
  time: MovableClock;
  dataDir: string;
  databaseUrl: string;
  admin: TestPrincipal;
  /** Everything the engine logged so far, as raw JSON lines. */
  logText(): string;
  member(username: string): Promise<TestPrincipal>;
  group(name: string, members: readonly TestPrincipal[]): Promise<{ id: string }>;
  /** A service account and an actor authenticated with one of its tokens. */
  bot(username: string, scope: TokenScope): Promise<TestPrincipal & { tokenId: string }>;
  /** Opens a second engine on the same database and data directory (e.g. after a simulated crash). */
  reopen(options?: CreateCofferOptions, config?: Partial<CofferConfigInput>): Promise<Coffer>;
  close(): Promise<void>;
}

/**
 * @example
 * let fx: CofferFixture;
 * beforeAll(async () => { fx = await createCofferFixture(dialect); });
 * afterAll(() => fx?.close());
 */
export async function createCofferFixture(
  dialect: DialectName,
  config: Partial<CofferConfigInput> = {},
  options: CreateCofferOptions = {},
): Promise<CofferFixture> {
  const testDb: TestDatabase = await createTestDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-data-'));
  const time = movableClock();
  let logged = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logged += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'trace', destination });
  const fullConfig: CofferConfigInput = {
    dataDir,
    database: { url: testDb.url },
    adminPassword: fixtureAdminPassword,
    ...config,
  };
  const open = (extra: CreateCofferOptions = {}, more: Partial<CofferConfigInput> = {}) =>
    createCoffer(
      { ...fullConfig, ...more },
      { logger, clock: time.clock, maintenance: false, ...options, ...extra },
    );
  const coffer = await open();
  const opened: Coffer[] = [coffer];
  const { user } = await coffer.identity.login('admin', fixtureAdminPassword);
  const admin = { id: user.id, actor: asUser(user.id) };
  return {
    dialect,
    coffer,
    time,
    dataDir,
    databaseUrl: testDb.url,
    admin,
    logText: () => logged,
    async member(username) {
      const created = await coffer.identity.createUser(admin.actor, {
        username,
        password: `password of ${username}`,
      });
      return { id: created.id, actor: asUser(created.id) };
    },
    async group(name, members) {
      const group = await coffer.identity.createGroup(admin.actor, { name });
      for (const m of members) await coffer.identity.addGroupMember(admin.actor, group.id, m.id);
      return { id: group.id };
    },
    async bot(username, scope) {
      const created = await coffer.identity.createUser(admin.actor, { username, type: 'service_account' });
      const { info } = await coffer.identity.createToken(admin.actor, {
        userId: created.id,
        name: 'ci',
        scope,
      });
      return { id: created.id, actor: asToken(info.id), tokenId: info.id };
    },
    async reopen(extra, more) {
      const again = await open(extra, more);
      opened.push(again);
      return again;
    },
    async close() {
      for (const c of opened) await c.close();
      await testDb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
