/**
 * Runs one secret write in a child process and kills itself with SIGKILL at a chosen write
 * step, so the parent test can check what a real crash leaves behind.
 *
 * Environment: COFFER_CRASH_CONFIG (JSON config for createCoffer), COFFER_CRASH_OP
 * (`create` | `update` | `purge`), COFFER_CRASH_STEP (a WriteStep, or `none`),
 * COFFER_CRASH_SECRET (the secret to update/purge).
 */
// Plain JavaScript on the built package, started by plain node: under tsx each child took
// 2.2 s of CPU to start instead of 0.75 (the parent checks the build is current first).
import { asUser, createCoffer } from '../../dist/index.js';

const config = JSON.parse(process.env.COFFER_CRASH_CONFIG ?? '{}');
const op = process.env.COFFER_CRASH_OP;
const step = process.env.COFFER_CRASH_STEP;
const secret = process.env.COFFER_CRASH_SECRET ?? '';

const coffer = await createCoffer(config, {
  maintenance: false,
  onWriteStep: (reached) => {
    if (reached === step) process.kill(process.pid, 'SIGKILL');
  },
});
const { user } = await coffer.identity.login('admin', config.adminPassword);
const admin = asUser(user.id);
if (op === 'create') {
  await coffer.secrets.create(admin, {
    name: 'crashed-create',
    kind: 'api-token',
    values: { token: 'created' },
  });
} else if (op === 'update') {
  await coffer.secrets.update(admin, secret, { values: { token: 'updated' } });
} else if (op === 'purge') {
  // purge deletes values after its commit; a kill between leaves journaled deletes behind
  await coffer.secrets.purge(admin, secret);
}
await coffer.close();
process.stdout.write('finished\n');
