// Tests drive built packages (`dist/`); a stale build would test old code, so say so plainly.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const checked = new Set<string>();

/**
 * Throws unless every `src/**\/*.ts` (tests and `test-support` folders aside, which are not
 * built) of the package has a `dist/**\/*.js` at least as new. Checked once per package and
 * test process.
 *
 * @example
 * assertPackageBuilt(fileURLToPath(new URL('../../', import.meta.url)), 'packages/cli');
 */
export function assertPackageBuilt(packageDir: string, label: string): void {
  if (checked.has(packageDir)) return;
  const src = join(packageDir, 'src');
  const stale: string[] = [];
  // `tsc -b` leaves an output untouched when its source was saved again unchanged, so a source
  // newer than its output still counts as built if the build ran after it was saved.
  const lastBuild = mtimeOf(join(packageDir, 'tsconfig.tsbuildinfo'));
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'test-support') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const out = join(packageDir, 'dist', relative(src, path).replace(/\.ts$/, '.js'));
        const built = mtimeOf(out);
        const saved = statSync(path).mtimeMs;
        if (built === 0 || (built < saved && lastBuild < saved)) stale.push(relative(packageDir, path));
      }
    }
  };
  walk(src);
  if (stale.length > 0) {
    throw new Error(
      `${label} is not built (stale: ${stale.slice(0, 3).join(', ')}); run \`npx tsc -b\` first`,
    );
  }
  checked.add(packageDir);
}

/** When `path` was last written; 0 when it does not exist. */
function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
