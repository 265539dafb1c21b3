import { readFileSync } from 'node:fs';
import { clientErrorCodes } from '@coffer/client';
import { errorCodes } from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { cliErrorCodes, exitCodeOf, exitCodeOfErrorCode, exitCodes } from './exit-codes.js';

const docs = readFileSync(new URL('../../../../docs/cli.md', import.meta.url), 'utf8');

describe('exit codes', () => {
  it('has one for every code of the server and the SDK', () => {
    expect(Object.keys(exitCodeOfErrorCode).sort()).toEqual([...errorCodes, ...clientErrorCodes].sort());
  });

  it('documents every error code and every exit code in docs/cli.md', () => {
    for (const code of [...Object.keys(exitCodeOfErrorCode), ...Object.keys(cliErrorCodes)]) {
      expect(docs, code).toContain(`\`${code}\``);
    }
    for (const exit of Object.values(exitCodes)) {
      expect(docs, String(exit)).toMatch(new RegExp(`^\\| ${exit} +\\|`, 'm'));
    }
  });

  it('maps unknown codes (a newer server) to the generic error', () => {
    expect(exitCodeOf('not_found')).toBe(3);
    expect(exitCodeOf('usage')).toBe(2);
    expect(exitCodeOf('something_new')).toBe(1);
  });
});
