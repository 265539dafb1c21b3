/**
 * Opens Coffer (which migrates on start) in a child process, printing progress, so the parent
 * test can SIGKILL it at random points. With COFFER_KILL_AT_STEP=n it kills itself at the
 * n-th migration step instead (an exact point between two steps of moving a secret).
 *
 * Environment: COFFER_MIGRATION_CONFIG (JSON config for createCoffer), COFFER_KILL_AT_STEP.
 */
// Plain JavaScript on the built package, started by plain node: under tsx each child took
// 2.2 s of CPU to start instead of 0.75 (the parent checks the build is current first).
import { createCoffer } from '../../../dist/index.js';

const config = JSON.parse(process.env.COFFER_MIGRATION_CONFIG ?? '{}');
const killAt = Number(process.env.COFFER_KILL_AT_STEP ?? 'NaN');
let steps = 0;

const coffer = await createCoffer(config, {
  maintenance: false,
  onMigrationStep: () => {
    steps++;
    if (steps === killAt) process.kill(process.pid, 'SIGKILL');
  },
});
coffer.migration.onProgress((status) => {
  process.stdout.write(`progress ${status.state} ${status.done} ${status.total} ${status.failed}\n`);
});
await coffer.migration.wait();
await coffer.close();
process.stdout.write('finished\n');
