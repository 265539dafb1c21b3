import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type apiTokenKind,
  defineKind,
  field,
  type genericKind,
  type KindValues,
  type SecretValues,
  type smtpKind,
  type sshKeyKind,
} from './index.js';

// The package's tsconfig leaves test files out, so the type assertions below are checked
// by running the compiler on this file from the test itself.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

assertType<
  Equal<
    KindValues<typeof smtpKind>,
    {
      host: string;
      port: number;
      security: 'starttls' | 'tls' | 'none';
      username?: string;
      password?: string;
      from?: string;
    }
  >
>();
assertType<
  Equal<
    KindValues<typeof sshKeyKind>,
    {
      port: number;
      username: string;
      privateKey: string;
      host?: string;
      passphrase?: string;
      publicKey?: string;
    }
  >
>();
assertType<
  Equal<
    KindValues<typeof apiTokenKind>,
    { token: string; headerName: string; scheme: string; baseUrl?: string }
  >
>();
assertType<Equal<KindValues<typeof genericKind>, SecretValues>>();

const flagKind = defineKind({
  id: 'test-flags',
  displayName: 'Flags',
  description: '',
  fields: {
    on: field.boolean(),
    level: field.enum(['low', 'high'] as const, { required: false }),
    ratio: field.number({ default: 0.5 }),
  },
});
assertType<Equal<KindValues<typeof flagKind>, { on: boolean; ratio: number; level?: 'low' | 'high' }>>();

// @ts-expect-error a required field is missing
export const missingField: KindValues<typeof smtpKind> = {
  port: 1,
  security: 'tls',
  username: 'u',
};
// @ts-expect-error a default must be one of the options
field.enum(['a', 'b'] as const, { default: 'c' });
// @ts-expect-error a secret field takes no default
field.secret({ default: 'p' });

const run = promisify(execFile);
const tsc = path.join(
  path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
  'bin',
  'tsc',
);

describe('KindValues', () => {
  it('types required and defaulted fields as present and the others as optional (checked by tsc)', async () => {
    const file = fileURLToPath(import.meta.url);
    const args = [
      tsc,
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--noUncheckedIndexedAccess',
      '--skipLibCheck',
      '--target',
      'es2023',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--types',
      'node',
      file,
    ];
    const result = await run(process.execPath, args).then(
      () => '',
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(result).toBe('');
  }, 60_000);
});
