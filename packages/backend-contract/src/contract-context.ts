import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BackendContext,
  createKeySource,
  type Logger,
  migrateToLatest,
  openDatabase,
  openKeyring,
  silentLogger,
} from '@coffer/core';

export interface ContractContextOptions {
  /** The instance name the backend gets (default `under-test`). */
  name?: string;
  /** A database for backends that use Coffer's (default: SQLite in a temporary directory). */
  databaseUrl?: string;
  clusterPrefix?: string;
  deploymentId?: string;
  logger?: Logger;
}

/** A context for a backend factory, and how to throw it away. */
export interface ContractContext {
  context: BackendContext;
  /** Closes the database and removes the temporary data directory. */
  close(): Promise<void>;
}

/**
 * Everything a backend factory needs, made for a test: a migrated database (SQLite in a
 * temporary directory unless `databaseUrl` is given), a keyring with a fresh key file, a data
 * directory, a cluster prefix and a deployment id.
 *
 * @example
 * const made = await createContractContext();
 * const backend = await myDefinition.create({ url: 'http://127.0.0.1:8200' }, made.context);
 */
export async function createContractContext(options: ContractContextOptions = {}): Promise<ContractContext> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-contract-'));
  const logger = options.logger ?? silentLogger();
  const clock = () => new Date();
  const database = await openDatabase(options.databaseUrl ?? `sqlite:${join(dataDir, 'coffer.db')}`);
  try {
    await migrateToLatest(database);
    const keyring = await openKeyring({
      source: createKeySource({ source: 'file' }, { dataDir }),
      database,
      logger,
      clock,
    });
    return {
      context: {
        name: options.name ?? 'under-test',
        keyring,
        database,
        dataDir,
        clusterPrefix: options.clusterPrefix ?? 'contract',
        deploymentId: options.deploymentId ?? randomUUID(),
        logger,
        clock,
      },
      async close() {
        await database.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
