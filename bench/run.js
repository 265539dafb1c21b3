// Runs every bench/*.bench.js in its own process, one after another, so one benchmark's
// heap and open handles never colour the next. `npm run bench -- engine http` runs only
// the files whose names contain one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`);
  process.exit(2);
}
console.log(`Coffer benchmarks on ${process.version}, ${process.platform}/${process.arch}`);
console.log('Figures are noisy on a shared machine; compare each ratio, not the absolute numbers.\n');
let failed = 0;
for (const file of files) {
  console.log(`=== ${file}`);
  const result = spawnSync(process.execPath, ['--expose-gc', join(here, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
  console.log('');
}
process.exit(failed === 0 ? 0 : 1);
