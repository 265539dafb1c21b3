// Tests drive built packages (`dist/`); a stale build would test old code, so say so plainly.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const checked = new Set<string>();

/**
 * Throws unless every `src/**\/*.ts` (tests aside) of the package has a `dist/**\/*.js` at least
 * as new. Checked once per package and test process.
 *
 * @example
 * assertPackageBuilt(fileURLToPath(new URL('../../', import.meta.url)), 'packages/cli');
 */
export function assertPackageBuilt(packageDir: string, label: string): void {
  if (checked.has(packageDir)) return;
  const src = join(packageDir, 'src');
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const out = join(packageDir, 'dist', relative(src, path).replace(/\.ts$/, '.js'));
        let built = 0;
        try {
          built = statSync(out).mtimeMs;
        } catch {
          built = 0;
        }
        if (built < statSync(path).mtimeMs) stale.push(relative(packageDir, path));
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
