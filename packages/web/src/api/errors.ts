import { isCofferApiError } from './client';

/** A sentence for a person: the server's problem detail, or why the server could not answer. */
export function describeError(err: unknown): string {
  if (isCofferApiError(err)) return err.message || `The server answered ${err.status}.`;
  if (err instanceof TypeError)
    return 'The server could not be reached. Check your connection and try again.';
  return err instanceof Error ? err.message : String(err);
}

/** True for a 401: the session ended (expired, logged out elsewhere, user disabled). */
export function isUnauthenticated(err: unknown): boolean {
  return isCofferApiError(err) && err.status === 401;
}

/** The check-and-set conflict of a write made with `ifVersion`. */
export function conflictOf(err: unknown): { currentVersion: number | undefined } | undefined {
  if (!isCofferApiError(err) || err.code !== 'version_conflict') return undefined;
  const current = err.details?.currentVersion;
  return { currentVersion: typeof current === 'number' ? current : undefined };
}

/**
 * The validation messages of a problem by field: `values.port` → `port` (with `prefix`
 * `values.`), other paths as they are. Messages without a path go under `''`.
 */
export function fieldIssues(err: unknown, prefix = ''): Record<string, string> {
  if (!isCofferApiError(err) || err.issues === undefined) return {};
  const out: Record<string, string> = {};
  for (const issue of err.issues) {
    const key = prefix !== '' && issue.path.startsWith(prefix) ? issue.path.slice(prefix.length) : issue.path;
    out[key] = out[key] === undefined ? issue.message : `${out[key]}; ${issue.message}`;
  }
  return out;
}
