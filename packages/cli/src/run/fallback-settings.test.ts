import { CofferApiError } from '@coffer/client';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors/cli-error.js';
import {
  defaultFallbackTtlMs,
  describeDuration,
  fallbackSettings,
  parseDuration,
  refusalScope,
  unreachableReason,
} from './fallback-settings.js';

const stored = { tokenFrom: 'config' } as const;
const fromEnv = { tokenFrom: 'env' } as const;

/** A resolution error as `resolveAll` makes it: the first code, and every reference's. */
function resolveError(status: number, ...codes: string[]) {
  return new CofferApiError({
    status,
    code: codes[0] as 'network',
    message: 'cannot resolve',
    details: {
      references: codes.map((code, i) => ({ text: `{{ s${i}.f }}`, secret: `s${i}`, field: 'f', code })),
    },
  });
}

describe('fallbackSettings', () => {
  it('is on for a stored login and off for COFFER_TOKEN, unless told', () => {
    expect(fallbackSettings({}, {}, stored)).toEqual({ mode: 'on', ttlMs: defaultFallbackTtlMs });
    expect(fallbackSettings({}, {}, fromEnv).mode).toBe('off');
    expect(fallbackSettings({}, { COFFER_FALLBACK: 'on' }, fromEnv).mode).toBe('on');
    expect(fallbackSettings({}, { COFFER_FALLBACK: 'off' }, stored).mode).toBe('off');
    expect(fallbackSettings({ fallback: true }, { COFFER_FALLBACK: 'off' }, fromEnv).mode).toBe('on');
    expect(fallbackSettings({ fallback: false }, { COFFER_FALLBACK: 'on' }, stored).mode).toBe('off');
    expect(fallbackSettings({ fallbackOnly: true }, { COFFER_FALLBACK: 'off' }, fromEnv).mode).toBe('only');
    expect(() => fallbackSettings({}, { COFFER_FALLBACK: 'maybe' }, stored)).toThrow(UsageError);
  });

  it('refuses --fallback-only with --no-fallback or --watch', () => {
    expect(() => fallbackSettings({ fallbackOnly: true, fallback: false }, {}, stored)).toThrow('not both');
    expect(() => fallbackSettings({ fallbackOnly: true, watch: true }, {}, stored)).toThrow('--watch');
  });

  it('takes the time to live from the flag, then COFFER_FALLBACK_TTL', () => {
    expect(fallbackSettings({ fallbackTtl: '12h' }, { COFFER_FALLBACK_TTL: '1d' }, stored).ttlMs).toBe(
      12 * 3_600_000,
    );
    expect(fallbackSettings({}, { COFFER_FALLBACK_TTL: '30m' }, stored).ttlMs).toBe(30 * 60_000);
    expect(() => fallbackSettings({}, { COFFER_FALLBACK_TTL: 'soon' }, stored)).toThrow(
      'COFFER_FALLBACK_TTL',
    );
  });
});

describe('durations', () => {
  it('parses s, m, h and d, up to a year', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('7d', 'x')).toBe(7 * 86_400_000);
    for (const bad of ['0s', '7', '1w', '-1d', '366d', '1.5h', ''])
      expect(() => parseDuration(bad, '--fallback-ttl'), bad).toThrow('--fallback-ttl takes');
  });

  it('describes an age by its largest whole unit', () => {
    expect(describeDuration(1000)).toBe('1 second');
    expect(describeDuration(59_999)).toBe('59 seconds');
    expect(describeDuration(3 * 60_000 + 5)).toBe('3 minutes');
    expect(describeDuration(7 * 86_400_000 - 1000)).toBe('6 days');
    expect(describeDuration(-5)).toBe('0 seconds');
  });
});

describe('unreachableReason', () => {
  it('falls back when there was no answer, a gateway error, or an unavailable backend or key', () => {
    expect(unreachableReason(new CofferApiError({ status: 0, code: 'network', message: 'x' }))).toBe(
      'network',
    );
    expect(unreachableReason(resolveError(0, 'network', 'network'))).toBe('network');
    expect(unreachableReason(resolveError(502, 'unexpected_response'))).toBe('HTTP 502');
    expect(unreachableReason(resolveError(503, 'backend_unavailable', 'key_unavailable'))).toBe(
      'backend_unavailable, key_unavailable',
    );
  });

  it('never falls back for an answer about the login, the access or the input', () => {
    for (const code of [
      'unauthenticated',
      'forbidden',
      'not_found',
      'field_not_found',
      'validation',
      'internal',
      'rate_limited',
    ])
      expect(unreachableReason(resolveError(400, code)), code).toBeUndefined();
    // One refusal among unreachable references is a refusal.
    expect(unreachableReason(resolveError(0, 'network', 'forbidden'))).toBeUndefined();
    // An answer that is not Coffer's but not a gateway's either (a 404 page of a proxy).
    expect(unreachableReason(resolveError(404, 'unexpected_response'))).toBeUndefined();
    expect(unreachableReason(new Error('boom'))).toBeUndefined();
  });
});

describe('refusalScope', () => {
  it('drops the whole login for unauthenticated, the run for a withdrawn secret or field', () => {
    expect(refusalScope(resolveError(401, 'unauthenticated'))).toBe('login');
    expect(refusalScope(resolveError(0, 'network', 'forbidden'))).toBe('command');
    expect(refusalScope(resolveError(404, 'not_found'))).toBe('command');
    expect(refusalScope(resolveError(0, 'field_not_found'))).toBe('command');
    expect(refusalScope(resolveError(500, 'internal'))).toBeUndefined();
    expect(refusalScope(resolveError(0, 'network'))).toBeUndefined();
  });
});
