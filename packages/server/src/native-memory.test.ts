import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadTrimHeap, nativeMemoryPath } from './native-memory.js';

// The idle release's last step: glibc's malloc_trim, through the native helper that `npm install`
// builds (native/build.js). Where it cannot be built the server runs without it; in CI on
// Linux it must be there, since this is the part of the idle release that no other test sees.

const glibc =
  process.platform === 'linux' &&
  Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime,
  );
const trimHeap = loadTrimHeap();
if (!glibc) console.warn("skipping the native memory helper's tests: glibc's malloc_trim is not here");
else if (trimHeap === undefined) {
  if (process.env.CI) throw new Error(`CI: the native memory helper is not built at ${nativeMemoryPath}`);
  console.warn(
    `skipping the native memory helper's tests: not built (${nativeMemoryPath}; npm run build builds it)`,
  );
}

describe.skipIf(!glibc || trimHeap === undefined)('trimHeap (glibc)', () => {
  it("gives back the C heap's free pages that free() kept because memory above them still lives", () => {
    // A child process, so that only its own allocations are measured. It allocates 96 MiB in
    // 4 KiB ArrayBuffers (Node takes them from malloc), keeps 1 in 64 of them alive, the last
    // included, and lets the rest go: glibc can trim only the top of its heap, so it keeps
    // nearly all of them resident until asked.
    const child = `
      const { trimHeap } = createRequire(import.meta.url)(${JSON.stringify(nativeMemoryPath)});
      const rss = () => process.memoryUsage.rss() / 2 ** 20;
      let buffers = Array.from({ length: 24_576 }, () => new Uint8Array(new ArrayBuffer(4096)).fill(1));
      const kept = buffers.filter((_, i) => i % 64 === 63);
      buffers = undefined;
      gc();
      await new Promise((r) => setTimeout(r, 300)); // V8 frees the backing stores on a thread of its own
      gc();
      await new Promise((r) => setTimeout(r, 300));
      const freed = rss();
      const trimmed = trimHeap();
      console.log(JSON.stringify({ freed, trimmed, after: rss(), kept: kept.length }));
    `;
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', `import { createRequire } from 'node:module';${child}`],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    const { freed, trimmed, after, kept } = JSON.parse(run.stdout) as Record<string, number | boolean>;
    expect(kept).toBe(384);
    expect(trimmed).toBe(true);
    // ~90 MiB of whole free pages went back to the system.
    expect((freed as number) - (after as number)).toBeGreaterThan(48);
  });
});

describe('loadTrimHeap', () => {
  it('answers undefined where the helper was not built', () => {
    expect(loadTrimHeap('/nonexistent/coffer_memory.node')).toBeUndefined();
  });

  it('answers undefined for a file that is not a loadable helper', () => {
    expect(loadTrimHeap(new URL(import.meta.url).pathname)).toBeUndefined();
  });
});
