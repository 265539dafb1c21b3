import { CofferApiError } from '@coffer/client';
import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from './cli-error.js';
import { reportOf } from './report-error.js';

describe('reportOf', () => {
  it('prints the server code and message in one line, and issues it does not already say', () => {
    const err = new CofferApiError({
      status: 422,
      code: 'validation',
      message: 'values.port: must be at most 65535',
      issues: [
        { path: 'values.port', message: 'must be at most 65535' },
        { path: 'values.host', message: 'required' },
      ],
    });
    expect(reportOf(err)).toEqual({
      lines: ['coffer: validation: values.port: must be at most 65535', '  values.host: required'],
      exitCode: 6,
    });
  });

  it('adds the login hint to unauthenticated errors, keeps messages on one line', () => {
    const err = new CofferApiError({ status: 401, code: 'unauthenticated', message: 'token\nrevoked' });
    expect(reportOf(err, { unauthenticated: 'run coffer login' }).lines).toEqual([
      'coffer: unauthenticated: token revoked (run coffer login)',
    ]);
  });

  it('prints usage errors with the usage line, exit code 2', () => {
    expect(reportOf(new UsageError('missing x', { usage: 'coffer a <x>', path: 'coffer a' }))).toEqual({
      lines: [
        'coffer: usage: missing x',
        'usage: coffer a <x>',
        "Run 'coffer a --help' for details and examples.",
      ],
      exitCode: 2,
    });
    expect(reportOf(new CliError('file', 'cannot read x')).exitCode).toBe(1);
    expect(reportOf(new Error('boom'))).toEqual({ lines: ['coffer: internal: boom'], exitCode: 1 });
  });
});
