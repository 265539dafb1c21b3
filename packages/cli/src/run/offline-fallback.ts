import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import {
  describeDuration,
  type FallbackSettings,
  refusalScope,
  unreachableReason,
} from './fallback-settings.js';
import { FallbackStore, type Snapshot } from './fallback-store.js';

/** How long each request of a run that can fall back waits for an answer. */
export const fallbackRequestTimeoutMs = 10_000;

/**
 * The offline fallback of one `coffer run`: it keeps a snapshot of what the run resolved, and
 * answers with it when the server cannot be reached. Made by {@link offlineFallback}.
 */
export interface OfflineFallback {
  /** `--fallback-only`: the snapshot without asking the server, or a clear error. */
  only(): Record<string, string>;
  /** Keeps what the server just resolved (a warning, never a failure, when it cannot). */
  save(variables: Record<string, string>): void;
  /**
   * After `err` from the server: the snapshot when the server could not be reached (with one
   * warning line); otherwise `err` is thrown again, and a refusal deletes what it makes stale
   * (a revoked login: all of its snapshots; a withdrawn share or a removed field: this one).
   */
  recover(err: unknown): Record<string, string>;
}

function ageOf(snapshot: Snapshot, now = Date.now()): string {
  return `from ${describeDuration(now - snapshot.writtenAt.getTime())} ago, usable for ${describeDuration(snapshot.expiresAt.getTime() - now)} more`;
}

/**
 * The fallback of a run of `spec` (any JSON value naming exactly what the run resolves) for the
 * context's server and login; undefined (off) with `mode: 'off'`, and when there is no token to
 * bind a snapshot to (then `--fallback-only` is `not_logged_in`).
 *
 * @example
 * const fallback = offlineFallback(ctx, settings, { env: [['DB_PASSWORD', '{{ db.password }}']] });
 * try { env = await resolve(); fallback.save(env); } catch (err) { env = fallback.recover(err); }
 */
export function offlineFallback(
  ctx: CommandContext,
  settings: FallbackSettings,
  spec: unknown,
): OfflineFallback | undefined {
  if (settings.mode === 'off') return undefined;
  const { address, token } = ctx.credentials();
  if (token === undefined) {
    if (settings.mode !== 'only') return undefined;
    throw new CliError(
      'not_logged_in',
      `an offline snapshot belongs to a login, and there is none for ${address}; run coffer login, or set COFFER_TOKEN`,
    );
  }
  const store = new FallbackStore({ address, token, configDir: ctx.store.dir, env: ctx.env });
  const specId = store.specId(spec);
  return {
    only() {
      const snapshot = store.read(specId, settings.ttlMs);
      if (snapshot === undefined) {
        throw new CliError(
          'fallback_missing',
          `no offline snapshot of this command for this login on this machine; run it once while ${address} can be reached`,
        );
      }
      ctx.note(
        `coffer: warning: --fallback-only: using the offline snapshot ${ageOf(snapshot)}; the server was not asked`,
      );
      return snapshot.variables;
    },
    save(variables) {
      try {
        store.write(specId, variables, settings.ttlMs);
      } catch (err) {
        ctx.note(`coffer: warning: the offline snapshot was not written: ${(err as Error).message}`);
      }
    },
    recover(err) {
      const reason = unreachableReason(err);
      if (reason === undefined) {
        const scope = refusalScope(err);
        if (scope === 'login') store.removeAll();
        else if (scope === 'command') store.remove(specId);
        throw err;
      }
      let snapshot: Snapshot | undefined;
      try {
        snapshot = store.read(specId, settings.ttlMs);
      } catch (problem) {
        const why = problem instanceof CliError ? `${problem.code}: ${problem.message}` : String(problem);
        ctx.note(`coffer: warning: ${why}`);
        throw err;
      }
      if (snapshot === undefined) {
        ctx.note('coffer: note: no offline snapshot of this command to fall back on');
        throw err;
      }
      ctx.note(
        `coffer: warning: the server cannot be reached (${reason}); using the offline snapshot ${ageOf(snapshot)}`,
      );
      return snapshot.variables;
    },
  };
}
