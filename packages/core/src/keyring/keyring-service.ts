import { requireAdmin } from '../access/require-admin.js';
import { auditEntry } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BackendSet } from '../backends/backend-registry.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
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
}

export interface KeyringServiceDeps {
  keyring: Keyring;
  backends: BackendSet;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: Pick<AuditLog, 'appendStandalone'>;
  logger: Logger;
}

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
  };
  let running: Promise<void> | null = null;

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
        for (const backend of deps.backends.all()) {
          if (backend.rewrap === undefined) continue;
          const base = progress.rewrapped;
          const { rewrapped, failed } = await backend.rewrap((done) => {
            progress.rewrapped = base + done;
          });
          progress.rewrapped = base + rewrapped;
          progress.failed += failed;
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

  return {
    async status(actor: Actor): Promise<KeyringStatus & { rewrap: RewrapProgress }> {
      await requireAdmin(deps, actor, {
        action: 'keyring.rotate',
        target: { type: 'keyring' },
        write: false,
      });
      return { ...(await deps.keyring.status()), rewrap: { ...progress } };
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

    /** Re-wraps whatever is not under the current key (run at start; idempotent). */
    rewrapPending: startRewrap,
    /**
     * Starts the re-wrap again if the last run failed (e.g. the KMS was unreachable); the engine's
     * maintenance calls it periodically, so a run stopped by an outage finishes once it is over.
     */
    resumeFailed(): Promise<void> {
      return progress.state === 'failed' && running === null ? startRewrap() : Promise.resolve();
    },
    /** Resolves when the running re-wrap (if any) ends. */
    async settled(): Promise<void> {
      await running;
    },
  };
}

export type KeyringService = ReturnType<typeof createKeyringService>;
