export interface DirectoryMakingOptions {
  /** Makes `dir` and any missing parents; resolves to the first directory it made, if any. */
  make(dir: string): Promise<string | undefined>;
  /**
   * Makes what `make` did durable: records the directories from `created` down to `dir` in
   * their parents (fsyncs). Called for every make, with `created` undefined when it made none.
   */
  flush(dir: string, created: string | undefined): Promise<void>;
  /** The directories a make of `dir` may create, so concurrent makes that share one see each other. */
  levels(dir: string): readonly string[];
}

/**
 * Makes directories for concurrent writers so that none is answered before a directory it
 * writes into is durable. `mkdir` tells only the writer that made a directory; a second writer
 * that finds it an instant later would otherwise write its file, flush it and be answered
 * while the first is still flushing the parent, and a crash then could lose the directory
 * with both files. Each make registers before its `mkdir` (so that anyone whose `mkdir`
 * finds the directory made also finds the registration, whichever completion runs first) and
 * settles once its own flush is done; a writer's directory counts as durable once its own
 * flush and those of every make registered on its levels when its `mkdir` returned are done.
 *
 * @example
 * const { durable } = await making.make(dir); // dir exists
 * await writeFileInto(dir);
 * await durable; // and its entry in the parent (and its parent's) is on disk
 */
export function createDirectoryMaking(options: DirectoryMakingOptions) {
  const inFlight = new Map<string, Set<Promise<void>>>();

  /** Registers work on `levels` until the returned function settles it (with an error: failed). */
  function hold(levels: readonly string[]): { work: Promise<void>; settle: (err?: unknown) => void } {
    let finish!: (err?: unknown) => void;
    const work = new Promise<void>((resolve, reject) => {
      finish = (err) => (err === undefined ? resolve() : reject(err));
    });
    // Nobody may be waiting on it when it fails: a rejection must not go unhandled.
    work.catch(() => {});
    for (const level of levels) {
      let set = inFlight.get(level);
      if (set === undefined) {
        set = new Set();
        inFlight.set(level, set);
      }
      set.add(work);
    }
    const settle = (err?: unknown) => {
      for (const level of levels) {
        const set = inFlight.get(level);
        set?.delete(work);
        if (set?.size === 0) inFlight.delete(level);
      }
      finish(err);
    };
    return { work, settle };
  }

  return {
    /**
     * Registers other work that makes directories on `levels` (a batch making many at once),
     * so that makes finding them wait for it as for a make; call the result once they are
     * durable, or with the error that kept them from it.
     */
    hold: (levels: readonly string[]) => hold(levels).settle,
    /** Resolves once `dir` exists, with `durable`: settles once it is on disk (rejects if a flush failed). */
    async make(dir: string): Promise<{ durable: Promise<void> }> {
      const levels = options.levels(dir);
      const { work: mine, settle: release } = hold(levels);
      let created: string | undefined;
      try {
        created = await options.make(dir);
      } catch (err) {
        // A failed mkdir made nothing another writer could depend on: only this one fails.
        release();
        throw err;
      }
      // Whoever made a directory this make found had registered before this `mkdir` ran.
      const others = new Set<Promise<void>>();
      for (const level of levels) {
        for (const make of inFlight.get(level) ?? []) if (make !== mine) others.add(make);
      }
      const own = options.flush(dir, created);
      own.then(
        () => release(),
        (err: unknown) => release(err ?? new Error('directory flush failed')),
      );
      return { durable: Promise.all([own, ...others]).then(() => undefined) };
    },
  };
}

export type DirectoryMaking = ReturnType<typeof createDirectoryMaking>;
