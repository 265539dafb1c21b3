import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type Actor,
  asUser,
  type Coffer,
  type CofferConfigInput,
  createCoffer,
  createLogger,
  type KeySourceDefinition,
} from '@coffer/core';

const adminPassword = 'admin password of the key source contract';

/**
 * A whole Coffer engine on SQLite in a temporary directory, as the key source contract runs it:
 * a clock that only moves when told, every log line kept, and more engines on the same
 * database and data directory for restarts. Built on `@coffer/core` alone (its test support is
 * not published), so the suite runs from an installed package too.
 */
export interface KeySourceCoffer {
  coffer: Coffer;
  admin: Actor;
  /** Moves the engines' clock forward (it stands still otherwise). */
  advance(seconds: number): void;
  /** Everything the engines logged so far, as raw JSON lines. */
  logText(): string;
  /** Another engine on the same database and data directory, with `keyring` if given (a restart). */
  reopen(keyring?: CofferConfigInput['keyring']): Promise<Coffer>;
  /** Closes every engine opened and removes the directory. */
  close(): Promise<void>;
}

/**
 * Opens a fresh Coffer whose keyring is `keyring` (the key file when undefined), with
 * `definition` handed over as code, as an embedding application would.
 *
 * @example
 * const fx = await openKeySourceCoffer(awsKms, { source: 'aws-kms', keyId: 'alias/coffer' });
 * try { await fx.coffer.secrets.create(fx.admin, { name: 'db', kind: 'generic', values: {} }); }
 * finally { await fx.close(); }
 */
export async function openKeySourceCoffer(
  definition: KeySourceDefinition,
  keyring: CofferConfigInput['keyring'] | undefined,
): Promise<KeySourceCoffer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-key-source-contract-'));
  let now = Date.now();
  const clock = () => new Date(now);
  let logged = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logged += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'trace', destination });
  const config: CofferConfigInput = {
    dataDir,
    database: { url: `sqlite:${join(dataDir, 'coffer.db')}` },
    adminPassword,
    ...(keyring === undefined ? {} : { keyring }),
  };
  const opened: Coffer[] = [];
  const open = async (more: Partial<CofferConfigInput> = {}) => {
    const coffer = await createCoffer(
      { ...config, ...more },
      { logger, clock, maintenance: false, keySourceDefinitions: [definition] },
    );
    opened.push(coffer);
    return coffer;
  };
  const close = async () => {
    for (const c of opened.splice(0)) await c.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const coffer = await open();
    const { user } = await coffer.identity.login('admin', adminPassword);
    return {
      coffer,
      admin: asUser(user.id),
      advance(seconds) {
        now += seconds * 1000;
      },
      logText: () => logged,
      reopen: (next) => open(next === undefined ? {} : { keyring: next }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
