import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { CliError } from '../errors/cli-error.js';
import { formatDotenv, looksLikeDotenv, quoteDotenvValue, whyNotDotenv } from './dotenv-format.js';

describe('quoteDotenvValue', () => {
  it('leaves shell-safe values bare and quotes the rest, single quotes first', () => {
    expect(quoteDotenvValue('smtp.example.com')).toBe('smtp.example.com');
    expect(quoteDotenvValue('')).toBe("''");
    expect(quoteDotenvValue('a b')).toBe("'a b'");
    expect(quoteDotenvValue('$HOME')).toBe("'$HOME'");
    expect(quoteDotenvValue("it's")).toBe(`"it's"`);
    expect(quoteDotenvValue(`it's "x"`)).toBe('`it\'s "x"`');
    expect(quoteDotenvValue('a\r\nb')).toBe('"a\\r\\nb"');
    expect(quoteDotenvValue(`'"\`\n`)).toBeUndefined();
  });
});

describe('formatDotenv', () => {
  it('reads back exactly through the real dotenv parser, both of its parsers', () => {
    const values = {
      A: "it's",
      B: 'say "hi"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
      C: '$HOME `id` ${X}',
      D: 'one\ntwo\n',
      E: 'cr\rlf\r\n',
      F: '  spaced  ',
      G: '# not a comment',
      H: 'a=b',
      I: 'C:\\new',
      J: 'trailing\\',
      K: 'ünïcødé 🔑',
      L: '',
    };
    const text = formatDotenv(values);
    expect(parse(text)).toEqual(values);
    expect(parse(text, { fast: true } as never)).toEqual(values);
  });

  it('round-trips random awkward strings, or refuses them by name', () => {
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      '\t',
      '\n',
      '\r',
      "'",
      '"',
      '`',
      '\\',
      '$',
      '#',
      '=',
      '{',
      '}',
      'n',
      'r',
      'é',
      '🔑',
      '\u2028',
    ];
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const entries: Record<string, string> = {};
      for (let i = 0; i < 8; i++) {
        const length = Math.floor(random() * 12);
        entries[`K${i}`] = Array.from(
          { length },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join('');
      }
      try {
        expect(parse(formatDotenv(entries))).toEqual(entries);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        expect(err.code).toBe('format');
        expect(err.message).toMatch(/^the value of K\d /);
        refused++;
      }
    }
    // Most files can be written; only values no quoting and no bare write keeps cannot.
    expect(refused).toBeLessThan(300);
  });

  it('says why a value is refused: what it holds, not every kind of quote when it holds none', () => {
    expect(() => formatDotenv({ A: ' x\\' })).toThrow(
      'the value of A cannot be written as dotenv (it ends in a backslash, which dotenv reads as escaping a closing quote, and it starts or ends with a blank, which dotenv drops from a bare value); use --format json or yaml',
    );
    expect(whyNotDotenv('#x\\')).toBe(
      'it ends in a backslash, which dotenv reads as escaping a closing quote, and it holds a #, which starts a comment in a bare value',
    );
    expect(whyNotDotenv('"x\\')).toMatch(
      /, and it starts with a quote, which dotenv reads as opening a quoted value$/,
    );
    expect(whyNotDotenv('a\r"b')).toBe(
      'it holds a double quote and a carriage return, which rule out every kind of dotenv quote, and it holds a line break, which a bare value cannot',
    );
    expect(whyNotDotenv(`'"\`\n`)).toMatch(/^it holds a single quote, a double quote and a backtick, /);
    for (const value of [' x\\', '#x\\', '"x\\', 'a\r"b', `'"\`\n`])
      expect(quoteDotenvValue(value)).toBeUndefined();
  });

  it('refuses a name that is not a variable name', () => {
    expect(() => formatDotenv({ 'a b': 'x' })).toThrow(/cannot be a dotenv variable name/);
  });
});

describe('looksLikeDotenv', () => {
  it('tells dotenv from YAML', () => {
    expect(looksLikeDotenv('# comment\nA=1\n')).toBe(true);
    expect(looksLikeDotenv('export A=1')).toBe(true);
    expect(looksLikeDotenv('a: 1\n')).toBe(false);
    expect(looksLikeDotenv('')).toBe(false);
  });
});
