import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, most first (CI runs of 2026-12-07 on a 2-core machine: 177 s
 * down to 6 s). Vitest starts the files it knows to be slow first only from an earlier run's
 * timings, and CI starts from a clean clone, where it goes by file size: the migration-kill
 * file, a small one, used to start near the end and run on alone for a minute, and the stores'
 * contract files (6-15 s each) used to be the last ones running while the other worker had
 * nothing left. A file missing here only starts later; nothing else depends on the order.
 */
const slowestFirst = [
  'migration/migration-kill.test.ts',
  'e2e/replicas/',
  'server/test/malformed-input.test.ts',
  'cli/test/admin.test.ts',
  'secrets/crash-consistency.test.ts',
  'server/test/api.test.ts',
  'server/test/server-lifecycle.test.ts',
  'access/permission-matrix.test.ts',
  'cli/test/secrets.test.ts',
  'backends/backup-backend.test.ts',
  'debian-clients.test.ts',
  'e2e/stores/cross-store-migration.test.ts',
  'migration/migration-service.test.ts',
  'cli/test/transfer.test.ts',
  'e2e/web/admin-center.test.ts',
  'contract-double.test.ts',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = slowestFirst.findIndex((part) => file.moduleId.includes(part));
      return at === -1 ? slowestFirst.length : at;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((file, order) => ({ file, order, rank: rank(file) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ file }) => file);
  }
}

// Tests import workspace packages through their "source" export condition, so they run
// against the TypeScript sources without a build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: a single worker on CI's 2-core
    // machine. Most files here wait on child processes, databases and sockets rather than the
    // CPU, so two files at a time finish the suite in about two thirds of the time.
    maxWorkers: 2,
    // Each worker keeps its loaded modules from one test file to the next instead of starting
    // a fresh process per file: importing Fastify, Kysely, the cloud SDKs and our packages again
    // for each of ~200 files cost 151 s of CPU in a run of 742 s on CI's 2-core machine (27 s
    // without isolation; the run took 684 s). So a test file must not rely on module state
    // being fresh: it restores what it patches, and makes no assumption about what ran before.
    isolate: false,
    sequence: { sequencer: SlowestFirst },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
