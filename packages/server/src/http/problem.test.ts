import { readFileSync } from 'node:fs';
import { CofferError, errorCodes } from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { HttpProblem, httpStatusOf, problemOf, problemTitles } from './problem.js';

const apiDoc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');

describe('the error status table', () => {
  it('documents every error code with its status in docs/api.md', () => {
    for (const code of errorCodes) {
      const row = new RegExp(`^\\|\\s*\`${code}\`\\s*\\|\\s*${httpStatusOf[code]}\\b`, 'm');
      expect(apiDoc, `docs/api.md has no row "| \`${code}\` | ${httpStatusOf[code]} |"`).toMatch(row);
      expect(problemTitles[code]).toBeTruthy();
    }
  });

  it('makes a version conflict 412 only when the write was conditional', () => {
    const conflict = new CofferError('version_conflict', 'secret "a" is at version 2, not 1', {
      details: { expectedVersion: 1, currentVersion: 2 },
    });
    expect(problemOf(conflict, { conditional: true }).problem.status).toBe(412);
    expect(problemOf(conflict, { conditional: false }).problem.status).toBe(409);
    expect(problemOf(conflict, { conditional: true }).problem.details).toEqual({
      expectedVersion: 1,
      currentVersion: 2,
    });
  });

  it('gives field issues for validation and a generic message for internal errors', () => {
    const invalid = CofferError.validation([{ path: 'values.port', message: 'expected number' }]);
    expect(problemOf(invalid, { conditional: false }).problem).toEqual({
      type: 'urn:coffer:error:validation',
      title: 'Invalid request',
      status: 422,
      code: 'validation',
      detail: 'values.port: expected number',
      issues: [{ path: 'values.port', message: 'expected number' }],
    });
    const crash = problemOf(new Error('connection to 10.0.0.1 password=hunter2 failed'), {
      conditional: false,
    });
    expect(crash.log).toBe(true);
    expect(crash.problem).toMatchObject({ status: 500, code: 'internal' });
    expect(crash.problem.detail).not.toContain('hunter2');
    expect(
      problemOf(new CofferError('internal', 'secret detail'), { conditional: false }).problem.detail,
    ).not.toContain('secret detail');
  });

  it('maps malformed requests to 400, 413 and 415 without quoting them', () => {
    const json = Object.assign(new Error('Unexpected token \'h\', "hunter2" is not valid JSON'), {
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      statusCode: 400,
    });
    expect(problemOf(json, { conditional: false }).problem).toMatchObject({
      status: 400,
      code: 'validation',
    });
    expect(problemOf(json, { conditional: false }).problem.detail).not.toContain('hunter2');
    const big = Object.assign(new Error('too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(problemOf(big, { conditional: false }).problem).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    const media = Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 });
    expect(problemOf(media, { conditional: false }).problem).toMatchObject({
      status: 415,
      title: 'Unsupported media type',
    });
    const other = Object.assign(new Error('weird hunter2'), { statusCode: 431 });
    expect(problemOf(other, { conditional: false }).problem).toMatchObject({
      status: 400,
      detail: 'the request is malformed',
    });
    expect(
      problemOf(new HttpProblem(400, 'validation', 'bad If-Match'), { conditional: true }).problem.status,
    ).toBe(400);
  });
});
