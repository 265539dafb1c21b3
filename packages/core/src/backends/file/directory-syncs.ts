import { syncDirectory } from '../../keyring/atomic-file.js';

interface DirectoryState {
  /** The fsync running now, if any. */
  running: Promise<void> | undefined;
  /** The fsync that starts once `running` ends; callers arriving now share it. */
  queued: Promise<void> | undefined;
}

/**
 * Shares directory fsyncs among concurrent callers. A caller asks after its change (a rename,
 * a new entry) is made, and is answered by an fsync that started after it asked: when none of
 * that directory is running, one starts at once; while one runs (it may have started before the
 * caller's change, so it cannot count), the caller joins the next one, which starts when the
 * running one ends and serves everyone who joined it. Ten writers creating their secrets'
 * directories in the same shard directory then cost one or two fsyncs of it instead of ten.
 *
 * @example
 * const syncs = createDirectorySyncs();
 * await rename(temp, target);
 * await syncs.sync(dirname(target));
 */
export function createDirectorySyncs(syncOne: (dir: string) => Promise<void> = syncDirectory) {
  const states = new Map<string, DirectoryState>();

  function start(dir: string, state: DirectoryState): Promise<void> {
    const run = syncOne(dir);
    state.running = run;
    const settle = () => {
      state.running = undefined;
      if (state.queued === undefined && states.get(dir) === state) states.delete(dir);
    };
    run.then(settle, settle);
    return run;
  }

  return {
    /** Resolves after an fsync of `dir` that started after this call; rejects with its error. */
    sync(dir: string): Promise<void> {
      let state = states.get(dir);
      if (state === undefined) {
        state = { running: undefined, queued: undefined };
        states.set(dir, state);
      }
      if (state.running === undefined) return start(dir, state);
      if (state.queued !== undefined) return state.queued;
      const current = state.running;
      const next = current
        .catch(() => {})
        .then(() => {
          // Starting now: whoever asks from here on waits for the fsync after this one.
          state.queued = undefined;
          return start(dir, state);
        });
      state.queued = next;
      return next;
    },
  };
}

export type DirectorySyncs = ReturnType<typeof createDirectorySyncs>;
