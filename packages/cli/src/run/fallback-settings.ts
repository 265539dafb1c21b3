import type { Credentials } from '../config/credentials.js';
import { UsageError } from '../errors/cli-error.js';

/**
 * Whether `coffer run` keeps and uses an offline snapshot: `off` never reads nor writes one,
 * `on` writes one after each resolution and uses it when the server cannot be reached, `only`
 * uses it without asking the server.
 */
export type FallbackMode = 'off' | 'on' | 'only';

/** What one `coffer run` does about its offline snapshot. */
export interface FallbackSettings {
  mode: FallbackMode;
  /** How long a snapshot written now stays usable, and the oldest one this run accepts. */
  ttlMs: number;
}

/** The flags of `coffer run` that choose the fallback. */
export interface FallbackFlags {
  /** `--fallback` (true), `--no-fallback` (false), neither (undefined). */
  fallback?: boolean;
  fallbackOnly?: boolean;
  fallbackTtl?: string;
  watch?: boolean;
}

const day = 86_400_000;
export const defaultFallbackTtlMs = 7 * day;
const longestTtlMs = 365 * day;
const units = { s: 1000, m: 60_000, h: 3_600_000, d: day } as const;

/** `30s`, `15m`, `12h`, `7d` in milliseconds; `what` names the flag or variable in the error. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * units[match[2] as keyof typeof units];
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > longestTtlMs) {
    throw new UsageError(
      `${what} takes a number and s, m, h or d, at most 365d (e.g. 7d or 12h), got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** `3 minutes`, `2 hours`, `6 days`: the largest whole unit, for warnings. */
export function describeDuration(ms: number): string {
  const whole = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return whole(seconds, 'second');
  if (seconds < 3600) return whole(Math.floor(seconds / 60), 'minute');
  if (seconds < 86_400) return whole(Math.floor(seconds / 3600), 'hour');
  return whole(Math.floor(seconds / 86_400), 'day');
}

function modeFromEnv(value: string | undefined): FallbackMode | 'auto' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'on' || v === 'true' || v === '1') return 'on';
  if (v === 'off' || v === 'false' || v === '0') return 'off';
  throw new UsageError(`COFFER_FALLBACK takes on, off or auto, got ${JSON.stringify(value)}`);
}

/**
 * The fallback for one run: `--fallback-only`, else `--fallback`/`--no-fallback`, else
 * `COFFER_FALLBACK`, else on for a login stored by `coffer login` and off for `COFFER_TOKEN`
 * (a CI job writes nothing to disk unless asked). The time to live: `--fallback-ttl`, else
 * `COFFER_FALLBACK_TTL`, else 7 days.
 *
 * @example
 * fallbackSettings({ fallbackOnly: true }, process.env, ctx.credentials()); // { mode: 'only', ttlMs: 604800000 }
 */
export function fallbackSettings(
  flags: FallbackFlags,
  env: NodeJS.ProcessEnv,
  credentials: Pick<Credentials, 'tokenFrom'>,
): FallbackSettings {
  const ttlMs =
    flags.fallbackTtl !== undefined
      ? parseDuration(flags.fallbackTtl, '--fallback-ttl')
      : env.COFFER_FALLBACK_TTL !== undefined && env.COFFER_FALLBACK_TTL !== ''
        ? parseDuration(env.COFFER_FALLBACK_TTL, 'COFFER_FALLBACK_TTL')
        : defaultFallbackTtlMs;
  if (flags.fallbackOnly) {
    if (flags.fallback === false) throw new UsageError('give --fallback-only or --no-fallback, not both');
    if (flags.watch) {
      throw new UsageError('--watch asks the server for changes; it cannot go with --fallback-only');
    }
    return { mode: 'only', ttlMs };
  }
  if (flags.fallback !== undefined) return { mode: flags.fallback ? 'on' : 'off', ttlMs };
  const fromEnv = modeFromEnv(env.COFFER_FALLBACK);
  if (fromEnv !== 'auto') return { mode: fromEnv, ttlMs };
  return { mode: credentials.tokenFrom === 'config' ? 'on' : 'off', ttlMs };
}

interface ApiErrorLike {
  code: string;
  status: number;
  details?: { references?: { code?: unknown }[] } | undefined;
}

function apiError(err: unknown): ApiErrorLike | undefined {
  if (!(err instanceof Error) || err.name !== 'CofferApiError') return undefined;
  const e = err as Error & Partial<ApiErrorLike>;
  return typeof e.code === 'string' && typeof e.status === 'number' ? (e as ApiErrorLike) : undefined;
}

/** Every code of the failure: each failed reference's of a resolution, else its own. */
function codesOf(err: ApiErrorLike): string[] {
  const references = err.details?.references;
  if (!Array.isArray(references) || references.length === 0) return [err.code];
  return references.map((r) => (typeof r.code === 'string' ? r.code : err.code));
}

/**
 * Codes that say "the server cannot serve this now" rather than "no": no answer at all
 * (refused, DNS, reset, timeout), and the server's own 503s for a backend or key it cannot
 * reach. Anything it answered about the login, the access or the input is not among them.
 */
const unreachableCodes = new Set([
  'network',
  'backend_unavailable',
  'database_unavailable',
  'key_unavailable',
]);

/** Statuses of a gateway or load balancer in front of a server that is down. */
const gatewayStatuses = new Set([502, 503, 504]);

/**
 * Why the server could not serve `err`'s request, when that is all that went wrong (every
 * failed reference failed that way), e.g. `network` or `HTTP 502`; undefined for any other
 * failure, which must never fall back (a revoked token, a withdrawn share, a missing field).
 */
export function unreachableReason(err: unknown): string | undefined {
  const e = apiError(err);
  if (e === undefined) return undefined;
  const codes = new Set(codesOf(e));
  for (const code of codes) {
    if (unreachableCodes.has(code)) continue;
    if (code === 'unexpected_response' && gatewayStatuses.has(e.status)) continue;
    return undefined;
  }
  if (codes.size === 1 && codes.has('unexpected_response')) return `HTTP ${e.status}`;
  return [...codes].join(', ');
}

/**
 * What a refusal says about the snapshots: `login` when the server no longer accepts the
 * login (every snapshot of it goes), `command` when a secret is no longer there or no longer
 * shared, or a field is gone (this command's goes), undefined otherwise (it stays, unused).
 */
export function refusalScope(err: unknown): 'login' | 'command' | undefined {
  const e = apiError(err);
  if (e === undefined) return undefined;
  const codes = new Set([e.code, ...codesOf(e)]);
  if (codes.has('unauthenticated')) return 'login';
  if (codes.has('forbidden') || codes.has('not_found') || codes.has('field_not_found')) return 'command';
  return undefined;
}
