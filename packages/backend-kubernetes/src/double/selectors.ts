import { badRequest } from './k8s-status.js';

/**
 * Label and field selectors as `k8s.io/apimachinery/pkg/labels.Parse` and `fields.ParseSelector`
 * read them: equality (`=`, `==`, `!=`), set-based (`in`, `notin`), existence (`key`, `!key`)
 * and the integer comparisons (`>`, `<`), joined by commas (all must hold).
 */

type Operator = 'exists' | 'notexists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

/** A parsed selector: `matches(labels)`; the empty selector matches everything. */
export interface Selector {
  matches(labels: Readonly<Record<string, string>>): boolean;
  readonly empty: boolean;
}

const namePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a qualified name (`[prefix/]name`), or undefined when it is. */
export function qualifiedNameProblem(key: string): string | undefined {
  const at = key.lastIndexOf('/');
  const prefix = at === -1 ? undefined : key.slice(0, at);
  const name = at === -1 ? key : key.slice(at + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !dnsSubdomain.test(prefix))) {
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!namePart.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Why `value` is not a label value (empty, or at most 63 of [-A-Za-z0-9_.] inside alphanumerics). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!namePart.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

class Lexer {
  #at = 0;
  constructor(readonly text: string) {}

  #skipSpace(): void {
    while (this.#at < this.text.length && /\s/.test(this.text[this.#at]!)) this.#at++;
  }

  peek(): string {
    this.#skipSpace();
    return this.text.slice(this.#at);
  }

  done(): boolean {
    return this.peek() === '';
  }

  /** Consumes `token` when the input continues with it. */
  take(token: string): boolean {
    if (this.peek().startsWith(token)) {
      this.#at += token.length;
      return true;
    }
    return false;
  }

  /** A key or value: everything up to a separator or an operator character. */
  word(): string {
    this.#skipSpace();
    const start = this.#at;
    while (this.#at < this.text.length && !/[\s,()=!<>]/.test(this.text[this.#at]!)) this.#at++;
    return this.text.slice(start, this.#at);
  }

  /** An identifier keyword (`in`, `notin`) followed by a space or `(`. */
  keyword(name: string): boolean {
    const rest = this.peek();
    if (rest.startsWith(name) && /^[\s(]/.test(rest.slice(name.length))) {
      this.take(name);
      return true;
    }
    return false;
  }
}

function fail(detail: string): never {
  throw badRequest(`unable to parse requirement: ${detail}`);
}

function checkKey(key: string): void {
  if (key === '') fail("found '', expected: identifier");
  const problem = qualifiedNameProblem(key);
  if (problem !== undefined) fail(`key: Invalid value: "${key}": ${problem}`);
}

function checkValue(value: string): void {
  const problem = labelValueProblem(value);
  if (problem !== undefined) fail(`values[0]: Invalid value: "${value}": ${problem}`);
}

function parseRequirement(lex: Lexer): Requirement {
  if (lex.take('!')) {
    const key = lex.word();
    checkKey(key);
    return { key, op: 'notexists', values: [] };
  }
  const key = lex.word();
  checkKey(key);
  const rest = lex.peek();
  if (rest === '' || rest.startsWith(',')) return { key, op: 'exists', values: [] };
  let op: Operator;
  if (lex.take('==') || lex.take('=')) op = '=';
  else if (lex.take('!=')) op = '!=';
  else if (lex.take('>')) op = 'gt';
  else if (lex.take('<')) op = 'lt';
  else if (lex.keyword('notin')) op = 'notin';
  else if (lex.keyword('in')) op = 'in';
  else fail(`found '${rest.slice(0, 10)}', expected: in, notin, =, ==, !=, gt, lt`);
  if (op === 'in' || op === 'notin') {
    if (!lex.take('(')) fail("found '', expected: '('");
    const values: string[] = [];
    for (;;) {
      const value = lex.word();
      checkValue(value);
      values.push(value);
      if (lex.take(',')) continue;
      if (lex.take(')')) break;
      fail("found '', expected: ',' or ')'");
    }
    return { key, op, values };
  }
  const value = lex.word();
  if (op === 'gt' || op === 'lt') {
    if (!/^-?[0-9]+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
  } else checkValue(value);
  return { key, op, values: [value] };
}

function holds(req: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = has ? labels[req.key]! : undefined;
  switch (req.op) {
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case '=':
      return value === req.values[0];
    case '!=':
      return value !== req.values[0];
    case 'in':
      return value !== undefined && req.values.includes(value);
    case 'notin':
      return value === undefined || !req.values.includes(value);
    case 'gt':
    case 'lt': {
      if (value === undefined || !/^-?[0-9]+$/.test(value)) return false;
      const n = Number(value);
      const bound = Number(req.values[0]);
      return req.op === 'gt' ? n > bound : n < bound;
    }
  }
}

/**
 * Parses a `labelSelector` query value; a bad one is a 400 BadRequest.
 *
 * @example
 * parseLabelSelector('app.kubernetes.io/managed-by=coffer,tier in (a,b),!legacy').matches(labels);
 */
export function parseLabelSelector(text: string | null | undefined): Selector {
  const requirements: Requirement[] = [];
  const lex = new Lexer(text ?? '');
  while (!lex.done()) {
    requirements.push(parseRequirement(lex));
    if (lex.done()) break;
    if (!lex.take(',')) fail(`found '${lex.peek().slice(0, 10)}', expected: ',' or 'end of string'`);
  }
  return {
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => holds(r, labels)),
  };
}

/**
 * Parses a `fieldSelector` for secrets: `metadata.name`, `metadata.namespace` and `type` with
 * `=`, `==` or `!=`. Other fields are refused as the API server refuses them (400).
 */
export function parseSecretFieldSelector(text: string | null | undefined): Selector {
  const terms: { field: string; value: string; negate: boolean }[] = [];
  for (const raw of (text ?? '').split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (m === null) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && field !== 'type') {
      throw badRequest(`field label not supported: ${field}`);
    }
    terms.push({ field, value: m[3]!.trim(), negate: m[2] === '!=' });
  }
  return {
    empty: terms.length === 0,
    matches: (fields) => terms.every((t) => (fields[t.field] === t.value) !== t.negate),
  };
}
