import {
  type CofferConfigInput,
  type ExternalKey,
  type ExternalKeySource,
  type KeySourceDefinition,
  silentLogger,
  type WrapContext,
  type WrappedDataKey,
} from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from './contract-support.js';
import { openKeySourceCoffer } from './key-source-fixture.js';

/** What the source under test gets: where to log (nowhere) and what time it is. */
export interface RealKmsSourceContext {
  logger: ReturnType<typeof silentLogger>;
  clock: () => Date;
}

export interface RealKmsChecksOptions {
  /** The suite's title, e.g. `the aws-kms key source against real AWS KMS`. */
  title: string;
  /** Whether the environment names a real key; when false the suite is skipped. */
  configured: boolean;
  /** Printed once when not configured: which variables to set to run the checks. */
  skipMessage: string;
  /** What the KMS binds a wrapped key to, for the first case's title (`encryption context`). */
  bindsTo: string;
  /** The key source definition, handed to the Coffer as code. */
  definition: KeySourceDefinition;
  /** The `keyring` settings (`source` included) of a Coffer on the real key. */
  keyring: Record<string, unknown>;
  /** Opens the source on the real key. */
  openSource(context: RealKmsSourceContext): ExternalKeySource;
  /** Checks the key `current()` names (its id's or version's form). */
  checkKey(current: ExternalKey): void;
  /** Checks a freshly wrapped data key (its ciphertext's form), if wanted. */
  checkWrapped?(wrapped: WrappedDataKey): void;
  /** The secret the whole-Coffer case creates, and the password it stores. */
  secret: { name: string; password: string };
  /** Variables set in process.env while the whole Coffer runs, and removed after. */
  env?: Record<string, string>;
}

const context: WrapContext = {
  'coffer-deployment': 'contract',
  'coffer-secret': 'contract-secret',
  'coffer-version': '1',
};

/**
 * Declares the checks against a real KMS, run when its key is given in the environment (else
 * skipped, with `skipMessage` printed): the source wraps, unwraps and re-wraps data keys only
 * under their context, and a whole Coffer on the key creates, restarts and reveals. Nothing is
 * created, rotated or deleted in the KMS.
 *
 * @example
 * const keyName = process.env.COFFER_TEST_ACME_KEY;
 * runRealKmsChecks({
 *   title: 'the acme key source against real Acme KMS',
 *   configured: keyName !== undefined && keyName !== '',
 *   skipMessage: 'skipping the real Acme KMS checks: set COFFER_TEST_ACME_KEY to run them',
 *   bindsTo: 'context',
 *   definition: acmeKms,
 *   keyring: { source: 'acme-kms', keyName },
 *   openSource: (ctx) => createAcmeKeySource({ keyName }, ctx),
 *   checkKey: (current) => expect(current.keyVersion).toMatch(/^[0-9]+$/),
 *   secret: { name: 'real-acme', password: 'real acme contract' },
 * });
 */
export function runRealKmsChecks(options: RealKmsChecksOptions): void {
  if (!options.configured) console.log(options.skipMessage);

  describe.skipIf(!options.configured)(options.title, { timeout: 60_000 }, () => {
    it(`wraps, unwraps and re-wraps data keys only under their ${options.bindsTo}`, async () => {
      const source = options.openSource({ logger: silentLogger(), clock: () => new Date() });
      try {
        const current = await source.current();
        options.checkKey(current);
        const { dataKey, wrapped } = await source.generateDataKey(current, context);
        expect(dataKey.length).toBe(32);
        options.checkWrapped?.(wrapped);
        expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        const moved = { ...context, 'coffer-version': '2' };
        const err = await rejectionOf(source.unwrap(wrapped, moved), 'an unwrap under another context');
        expect((err as { code?: unknown }).code).toBe('integrity');
        const rewrapped = await source.rewrap(wrapped, context, current);
        expect((await source.unwrap(rewrapped, context)).equals(dataKey)).toBe(true);
      } finally {
        await source.close?.();
      }
    });

    it('runs a whole Coffer on the key: create, reveal, restart, reveal', async () => {
      const env = options.env ?? {};
      Object.assign(process.env, env);
      try {
        const fx = await openKeySourceCoffer(
          options.definition,
          options.keyring as CofferConfigInput['keyring'],
        );
        try {
          const secret = await fx.coffer.secrets.create(fx.admin, {
            name: options.secret.name,
            kind: 'generic',
            values: { password: options.secret.password },
          });
          const again = await fx.reopen();
          const view = await again.secrets.readValues(fx.admin, secret.id, { reveal: true });
          expect(view.values.password).toBe(options.secret.password);
        } finally {
          await fx.close();
        }
      } finally {
        for (const name of Object.keys(env)) delete process.env[name];
      }
    });
  });
}
