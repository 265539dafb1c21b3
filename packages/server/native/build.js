// Builds the server's native helper (memory.c) with node-gyp, as part of `npm install` and
// `npm run build`. The server runs the same without it, only keeping more memory when idle
// (docs/performance.md, "Idle RSS"), so a machine that cannot build it gets a warning, not a
// failed install. Built only on Linux: glibc's malloc_trim is the one call the helper makes.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, 'build', 'Release', 'coffer_memory.node');
const sources = ['memory.c', 'binding.gyp', 'build.js'].map((file) => join(here, file));

const warn = (reason) =>
  console.warn(
    existsSync(built)
      ? `coffer: the server's native memory helper was not rebuilt (${reason}). The previous build stays in use.`
      : `coffer: the server's native memory helper was not built (${reason}). The server works ` +
          'without it; it only gives less memory back when idle (docs/performance.md, "Idle RSS").',
  );

const upToDate = () =>
  existsSync(built) && sources.every((source) => statSync(source).mtimeMs <= statSync(built).mtimeMs);

if (process.platform !== 'linux') {
  // Nothing to build: the helper only wraps glibc's malloc_trim.
} else if (!upToDate()) {
  // npm names its own node-gyp in every script's environment; outside npm, one on the PATH.
  // `configure build`, not `rebuild`: a rebuild deletes the helper first, so a compile that
  // fails would leave none where a working one had been.
  const gyp = process.env.npm_config_node_gyp;
  const steps = ['configure', 'build'];
  const [command, args] = gyp ? [process.execPath, [gyp, ...steps]] : ['node-gyp', steps];
  const result = spawnSync(command, args, { cwd: here, encoding: 'utf8' });
  if (result.error) warn(`node-gyp could not start: ${result.error.message}`);
  else if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-8).join('\n');
    warn(`node-gyp exited with ${result.status}:\n${tail}\n`);
  } else if (existsSync(built)) {
    // make relinks only when memory.c changed; mark the helper current so that a change to
    // build.js or binding.gyp alone does not run node-gyp again on every build.
    const now = new Date();
    utimesSync(built, now, now);
  }
}
