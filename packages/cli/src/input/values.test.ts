import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAssignments, parseLabels } from './values.js';

describe('parseAssignments', () => {
  it('reads strings, typed JSON values, files and asked fields', () => {
    const file = join(tmpdir(), `coffer-values-${process.pid}`);
    writeFileSync(file, 'key\ncontent\n');
    expect(
      parseAssignments(['a=1', 'b:=2', 'c:=true', 'd:="x"', `e=@${file}`, 'f=-', 'g=a=b', 'h=', 'i=@']),
    ).toEqual({
      values: { a: '1', b: 2, c: true, d: 'x', e: 'key\ncontent\n', g: 'a=b', h: '', i: '@' },
      ask: ['f'],
    });
  });

  it('refuses what is not field=value', () => {
    expect(() => parseAssignments(['novalue'])).toThrow('expected field=value, got "novalue"');
    expect(() => parseAssignments(['=x'])).toThrow('expected field=value');
    expect(() => parseAssignments(['a b=x'])).toThrow('"a b" is not a field name');
    expect(() => parseAssignments(['a=1', 'a=2'])).toThrow('a is given twice');
    expect(() => parseAssignments(['a:=[1]'])).toThrow('must be a number, true/false or a "string"');
    expect(() => parseAssignments(['a:=nope'])).toThrow('needs a JSON value');
    expect(() => parseAssignments(['a=@/does/not/exist'])).toThrow(
      /cannot read \/does\/not\/exist \(for a\): ENOENT/,
    );
  });
});

describe('parseLabels', () => {
  it('reads name=value and bare names', () => {
    expect(parseLabels(['env=prod', 'flag', 'x=a=b'])).toEqual({ env: 'prod', flag: '', x: 'a=b' });
    expect(() => parseLabels(['=x'])).toThrow('expected label name=value');
  });
});
