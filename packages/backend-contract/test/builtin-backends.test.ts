import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import {
  type BackendDefinition,
  fileBackendDefinition,
  memoryBackendDefinition,
  sqlBackendDefinition,
  type ValueRef,
} from '@coffer/core';
import { createTestDatabase, describeEachDialect } from '@coffer/core/test-support';

// The built-in backends run the same contract a third-party backend runs. `memory` and `file`
// keep nothing in SQL, so they run once; `sql` runs on every dialect.

runBackendContract({
  name: 'memory',
  create: async () => {
    const made = await createContractContext({ name: 'memory' });
    return {
      backend: await memoryBackendDefinition.create({}, made.context),
      cleanup: () => made.close(),
    };
  },
});

runBackendContract({
  name: 'file',
  create: async () => {
    const made = await createContractContext({ name: 'files' });
    const config = (fileBackendDefinition as BackendDefinition).configSchema.parse({});
    const backend = await (fileBackendDefinition as BackendDefinition).create(config, made.context);
    const root = join(made.context.dataDir, 'backends', 'files', made.context.clusterPrefix);
    return {
      backend,
      cleanup: () => made.close(),
      tamper: (ref: ValueRef) => {
        const path = join(root, ref.secretId.slice(0, 2), ref.secretId, `${ref.version}.cfv`);
        const bytes = readFileSync(path);
        bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01;
        writeFileSync(path, bytes);
      },
    };
  },
});

await describeEachDialect('sql backend', (dialect) => {
  runBackendContract({
    name: `sql on ${dialect}`,
    create: async () => {
      const testDb = await createTestDatabase(dialect);
      const made = await createContractContext({ name: 'sql', databaseUrl: testDb.url });
      const { db } = made.context.database;
      return {
        backend: await sqlBackendDefinition.create({}, made.context),
        cleanup: async () => {
          await made.close();
          await testDb.drop();
        },
        tamper: async (ref: ValueRef) => {
          const row = await db
            .selectFrom('secret_values')
            .select('blob')
            .where('secret_id', '=', ref.secretId)
            .where('version', '=', ref.version)
            .executeTakeFirstOrThrow();
          const blob = Buffer.from(row.blob);
          blob[blob.length - 3] = blob[blob.length - 3]! ^ 0x01;
          await db
            .updateTable('secret_values')
            .set({ blob })
            .where('secret_id', '=', ref.secretId)
            .where('version', '=', ref.version)
            .execute();
        },
      };
    },
  });
});
