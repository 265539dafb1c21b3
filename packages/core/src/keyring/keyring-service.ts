import { requireAdmin } from '../access/require-admin.js';
import { auditEntry } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BackendSet } from '../backends/backend-registry.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import type { JobLeases } from '../jobs/job-leases.js';
import type { Logger } from '../logging/logger.js';
import type { KeyInfo, Keyring, KeyringStatus } from './keyring-types.js';

/** Progress of re-wrapping data keys under the current key. */
export interface RewrapProgress {
  state: 'idle' | 'running' | 'failed';
  /** Blobs re-wrapped by the current or last run. */
  rewrapped: number;
  /**
   * Blobs that could not be re-wrapped (tampered, or their old key is gone); they stay under their
   * old key and fail on read. A KMS outage is not counted here: it stops the run (`failed` state,
   * `error` says why) and the run resumes later where it stopped.
   */
  failed: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** Blobs re-wrapped per second while it runs (the total is not known up front, so no ETA). */
  ratePerSecond: number | null;
  /** The server running it, when another than this one is. */
  runningOn?: string | null;
}

export interface KeyringServiceDeps {
  keyring: Keyring;
  backends: BackendSet;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: Pick<AuditLog, 'appendStandalone'>;
  logger: Logger;
  /** One re-wrap at a time across the servers on the database, its progress visible to all. */
  leases?: JobLeases;
  /** How long a server re-wrapping may go silent before another takes over (default 60 s). */
  leaseMs?: number;
}

const rewrapJob = 'keyring.rewrap';

/**
 * Admin operations on the keyring: status, and rotation followed by an online re-wrap of
 * every stored data key (reads and writes go on meanwhile; old keys keep opening blobs
 * until they are re-wrapped). The re-wrap is idempotent, so running it again after a crash
 * simply continues.
 *
 * @example
 * await coffer.keyring.rotate(asUser(adminId));
 * (await coffer.keyring.status(asUser(adminId))).rewrap.state // 'running' → 'idle'
 */
export function createKeyringService(deps: KeyringServiceDeps) {
  const progress: RewrapProgress = {
    state: 'idle',
    rewrapped: 0,
    failed: 0,
    startedAt: null,
    finishedAt: null,
    error: null,
    ratePerSecond: null,
  };
  let running: Promise<void> | null = null;

  function withRate(p: RewrapProgress, now = Date.now()): RewrapProgress {
    const seconds = p.startedAt === null ? 0 : (now - Date.parse(p.startedAt)) / 1000;
    return {
      ...p,
      ratePerSecond: p.state === 'running' && seconds > 0 && p.rewrapped > 0 ? p.rewrapped / seconds : null,
    };
  }

  /** The walk over every envelope backend; `report` sees the progress as it moves. */
  async function rewrapAll(report: () => void, lost: () => boolean): Promise<void> {
    for (const backend of deps.backends.all()) {
      if (backend.rewrap === undefined || lost()) continue;
      const base = progress.rewrapped;
      const { rewrapped, failed } = await backend.rewrap((done) => {
        progress.rewrapped = base + done;
        report();
      });
      progress.rewrapped = base + rewrapped;
      progress.failed += failed;
      report();
    }
  }

  function startRewrap(): Promise<void> {
    if (running !== null) return running;
    Object.assign(progress, {
      state: 'running',
      rewrapped: 0,
      failed: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    });
    running = (async () => {
      try {
        if (deps.leases === undefined) {
          await rewrapAll(
            () => {},
            () => false,
          );
        } else {
          const outcome = await deps.leases.runExclusive(
            rewrapJob,
            async (lease) => {
              const report = () => lease.progress({ ...withRate(progress) });
              report();
              try {
                await rewrapAll(report, lease.lost);
              } catch (err) {
                // Recorded for every server before the lease is let go; the run resumes later.
                progress.state = 'failed';
                progress.error = err instanceof Error ? err.message : String(err);
                progress.finishedAt = new Date().toISOString();
                report();
                throw err;
              }
              progress.state = 'idle';
              progress.finishedAt = new Date().toISOString();
              report();
            },
            { ttlMs: deps.leaseMs ?? 60_000 },
          );
          if (!outcome.ran) {
            // Another server is re-wrapping: its progress is what status shows.
            Object.assign(progress, { state: 'idle', startedAt: null });
            return;
          }
        }
        progress.state = 'idle';
      } catch (err) {
        progress.state = 'failed';
        progress.error = err instanceof Error ? err.message : String(err);
        deps.logger.error({ err }, 're-wrapping data keys failed; it resumes on the next rotation or start');
      } finally {
        progress.finishedAt = new Date().toISOString();
        running = null;
      }
    })();
    return running;
  }

  /** This server's re-wrap while it runs one; otherwise the last one any server recorded. */
  async function currentProgress(): Promise<RewrapProgress> {
    if (running !== null || deps.leases === undefined) return withRate(progress);
    const shared = await deps.leases.status(rewrapJob).catch(() => undefined);
    if (shared?.progress == null) return withRate(progress);
    const recorded = shared.progress as unknown as RewrapProgress;
    const elsewhere = shared.running && shared.owner !== null;
    // This server's own last run, unless another server ran one since (or runs one now).
    const mineIsNewer =
      progress.startedAt !== null &&
      (recorded.startedAt === null || progress.startedAt >= recorded.startedAt);
    if (!elsewhere && mineIsNewer) return withRate(progress);
    return {
      ...withRate({
        ...recorded,
        state: elsewhere ? 'running' : recorded.state === 'running' ? 'failed' : recorded.state,
      }),
      ...(elsewhere ? { ratePerSecond: recorded.ratePerSecond ?? null, runningOn: shared.owner } : {}),
    };
  }

  return {
    async status(actor: Actor): Promise<KeyringStatus & { rewrap: RewrapProgress }> {
      await requireAdmin(deps, actor, {
        action: 'keyring.rotate',
        target: { type: 'keyring' },
        write: false,
      });
      return { ...(await deps.keyring.status()), rewrap: await currentProgress() };
    },

    /** Adds a key, makes it current, and re-wraps stored data keys in the background. */
    async rotate(actor: Actor): Promise<KeyInfo> {
      const who = await requireAdmin(deps, actor, {
        action: 'keyring.rotate',
        target: { type: 'keyring' },
        write: true,
      });
      const key = await deps.keyring.rotate();
      await deps.audit.appendStandalone(
        auditEntry(who, 'keyring.rotate', 'success', { type: 'keyring', id: key.id }),
      );
      void startRewrap();
      return key;
    },

    /**
     * Whether values can be sealed and opened right now: always for local keys; for a KMS, the
     * KMS answered about the key within the last few seconds. For readiness probes (`/readyz`).
     */
    async ready(): Promise<{ ok: true } | { ok: false; reason: string }> {
      try {
        await deps.keyring.ready?.();
        return { ok: true };
      } catch (err) {
        const details = (err as { details?: { reason?: unknown } }).details;
        return { ok: false, reason: typeof details?.reason === 'string' ? details.reason : 'unavailable' };
      }
    },

    /** Re-wraps whatever is not under the current key (run at start; idempotent). */
    rewrapPending: startRewrap,
    /**
     * Starts the re-wrap again if the last run failed (e.g. the KMS was unreachable); the engine's
     * maintenance calls it periodically, so a run stopped by an outage finishes once it is over.
     */
    async resumeFailed(): Promise<void> {
      if (running !== null) return;
      if (progress.state === 'failed') return startRewrap();
      // A re-wrap another server began and did not finish (it died): take it over.
      if (deps.leases !== undefined) {
        const shared = await deps.leases.status(rewrapJob);
        const recorded = shared?.progress as { state?: string } | null | undefined;
        if (shared !== undefined && !shared.running && recorded?.state === 'running') return startRewrap();
      }
    },
    /** Resolves when the running re-wrap (if any) ends. */
    async settled(): Promise<void> {
      await running;
    },
  };
}

export type KeyringService = ReturnType<typeof createKeyringService>;
