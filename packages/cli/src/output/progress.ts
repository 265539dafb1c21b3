/** A progress bar (with a total) or a spinner (without one) on standard error. */
export interface Progress {
  /** Moves to `done` (of `total`, which may change, e.g. when a server reports it). */
  update(done: number, total?: number): void;
  /** Adds one (or `n`). */
  tick(n?: number): void;
  /** Clears the line; prints `message` in its place when given. */
  stop(message?: string): void;
}

const quiet: Progress = { update() {}, tick() {}, stop() {} };
const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** True in CI: `CI` set to anything but empty, `false` or `0` (CI logs are no terminal to redraw). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * True when progress may be drawn: both outputs are terminals, JSON was not asked for, and
 * this is not CI.
 */
export function progressAllowed(json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return !json && process.stdout.isTTY === true && process.stderr.isTTY === true && !inCi(env);
}

/**
 * Draws at most ten frames a second, only when {@link progressAllowed}; otherwise every call
 * does nothing, so commands call it unconditionally.
 *
 * @example
 * const bar = startProgress('importing', { total: items.length, enabled: progressAllowed(json) });
 * for (const item of items) { await save(item); bar.tick(); }
 * bar.stop(`imported ${items.length} secrets`);
 */
export function startProgress(label: string, options: { total?: number; enabled: boolean }): Progress {
  if (!options.enabled) return quiet;
  const stream = process.stderr;
  const started = Date.now();
  let done = 0;
  let total = options.total;
  let frame = 0;
  let drawnAt = 0;

  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - drawnAt < 100) return;
    drawnAt = now;
    const seconds = ((now - started) / 1000).toFixed(1);
    let line: string;
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, done / total);
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 30));
      const filled = Math.round(ratio * width);
      line = `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total} ${Math.floor(ratio * 100)}% ${seconds}s`;
    } else {
      frame = (frame + 1) % spinnerFrames.length;
      line = `${spinnerFrames[frame]} ${label}${done > 0 ? ` ${done}` : ''} ${seconds}s`;
    }
    stream.write(`\r\x1b[2K${line}`);
  };
  // A spinner moves even while nothing is reported.
  const timer = setInterval(() => draw(true), 100);
  timer.unref();
  draw(true);
  return {
    update(value, newTotal) {
      done = value;
      if (newTotal !== undefined) total = newTotal;
      draw();
    },
    tick(n = 1) {
      done += n;
      draw();
    },
    stop(message) {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
      if (message !== undefined) stream.write(`${message}\n`);
    },
  };
}
