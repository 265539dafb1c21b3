import type { CofferConfigInput, ExternalKey, KeySourceDefinition } from '@coffer/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type KeySourceCase,
  type KeySourceCaseContext,
  type KeySourceCaseName,
  keySourceCaseNames,
  keySourceCases,
} from './key-source-cases.js';

/** A key `addKey` made in the KMS while the suite runs, and how to point a Coffer at it. */
export interface AddedKmsKey {
  /** `keyring` settings naming this key instead of the first one, e.g. `{ keyName: 'coffer-next' }`. */
  settings: Record<string, unknown>;
  /** The key as `status().keys[].external` names it once current: its full id and version. */
  external: ExternalKey;
  /** Disables the key (its current version) in the KMS, as an operator would. */
  disable?(): Promise<void>;
}

/** The operation names the KMS counts its requests by, for each kind of call the keyring makes. */
export interface KmsOperations {
  /** The call that wraps a new data key (`GenerateDataKey`, `Encrypt`, `WrapKey`). */
  wrap: string;
  /** The call that unwraps one (`Decrypt`, `UnwrapKey`). */
  unwrap: string;
  /**
   * The call that re-wraps one under another key in one step (AWS's `ReEncrypt`, Transit's
   * `rewrap`); leave it out where a re-wrap is an unwrap and a wrap.
   */
  rewrap?: string;
}

/**
 * The KMS the suite runs against (a local double, usually), as `start` hands it over: how to
 * configure a Coffer on its key, count its requests and do to it what an operator or an outage
 * would. A hook left out makes the cases that need it fail, saying so: give the hook, or skip
 * those cases with a reason.
 */
export interface KmsUnderTest {
  /** The `keyring` settings (`source` included) of a Coffer on the KMS's key; `extra` is merged in. */
  keyring(extra?: Record<string, unknown>): CofferConfigInput['keyring'];
  /** The key as configured, as `status().source.key` reports it (`alias/coffer`). */
  configuredKey: string;
  /** The KMS's full id of that key, as `external.keyId` and errors' `details.keyId` name it (its ARN). */
  keyId: string;
  operations: KmsOperations;
  /** How many requests for `operation` the KMS answered since `resetCounts()`. */
  requestCount(operation: string): number;
  resetCounts(): void;
  /**
   * How many versions (key material) the key has in the KMS, and the one that wraps new data
   * keys (GCP's primary, the newest elsewhere); checked against `status()` and a rotation.
   */
  keyVersions?(): Promise<KmsKeyVersions> | KmsKeyVersions;
  /** Makes every request for `operation` at least `ms` slower, until `restart`, so an outage lands mid-run. */
  slowDown?(operation: string, ms: number): void;
  /** A KMS outage: requests are refused or dropped; the keys are kept. */
  stop?(): Promise<void> | void;
  /** Ends the outage: the KMS answers again with the same keys, and no injected faults. */
  restart?(): Promise<void> | void;
  /** `keyring` settings naming a key the KMS does not have, and the id errors name it by. */
  missingKey?(): { settings: Record<string, unknown>; keyId: string };
  /** Makes another key in the KMS, named after `name` (`coffer-next`). */
  addKey?(name: string): Promise<AddedKmsKey>;
  /** Stops the KMS for good and puts back what `start` changed (environment variables). */
  close(): Promise<void> | void;
}

/** See {@link KmsUnderTest.keyVersions}. */
export interface KmsKeyVersions {
  count: number;
  current: string;
}

/** One way to damage the wrapped data key inside a stored blob; the reveal must fail with `integrity`. */
export interface WrappedKeyTampering {
  /** What is changed, for the failure messages: `a byte of KMS's ciphertext`. */
  what: string;
  /**
   * Changes `blob` in place. The wrapped data key (as the source stored it) ends at
   * `wrappedEnd`; the value's IV, tag and ciphertext follow.
   */
  change(blob: Buffer, wrappedEnd: number): void;
  /** What `details` carries besides the key id (the vendor's code), e.g. `{ vendorCode: 'INVALID_ARGUMENT' }`. */
  details?: Record<string, unknown>;
}

/** Cases left out for a key source, and why (the reason shows in the test report). */
export interface KeySourceContractSkip {
  reason: string;
  tests: readonly KeySourceCaseName[];
}

export interface KeySourceContractOptions {
  /** Shown in the suite's title: `key source contract: <name>`. */
  name: string;
  /** The key source definition, handed to `createCoffer` as code (`keySourceDefinitions`). */
  definition: KeySourceDefinition;
  /** Starts the KMS; called once, before the first case (every case opens its own Coffer on it). */
  start(): Promise<KmsUnderTest> | KmsUnderTest;
  /** Whether the source can rotate its key (`status().canRotate`); the rotation cases need it. */
  rotates: boolean;
  /**
   * The form of Coffer's id of the KMS's key as the first case finds it (`status().currentKeyId`
   * on a fresh KMS), e.g. `/^gcp-kms\.[0-9a-f]{12}\.1$/`; it must equal `externalKekId` anyway.
   */
  kekIdPattern?: RegExp;
  /**
   * How to damage a wrapped data key; each must fail with `integrity`. Default: flip one bit
   * five bytes before the end of the wrapped key (inside the KMS's ciphertext).
   */
  tamper?: readonly WrappedKeyTampering[];
  /** What else an error's `details` carries in these cases (the vendor's code). */
  vendorDetails?: {
    /** A wrapped key moved onto another secret (`integrity`). */
    moved?: Record<string, unknown>;
    /** A start on a key the KMS does not have (`key_unavailable`, `key_not_found`). */
    missingKey?: Record<string, unknown>;
    /** A start on a disabled key (`key_unavailable`, `key_disabled`). */
    disabledKey?: Record<string, unknown>;
  };
  /** How many secrets the re-wrap outage case stores (default 40; fewer for a slow KMS). */
  rewrapSecrets?: number;
  /** Cases this source does not run, each group with its reason. */
  skip?: readonly KeySourceContractSkip[];
  /** Time limit of one case in milliseconds (default 60 000). */
  timeoutMs?: number;
}

/** Flips one bit inside the KMS's ciphertext, a few bytes before the wrapped key ends. */
const flipOneBit: WrappedKeyTampering = {
  what: 'a bit of the wrapped data key',
  change(blob, wrappedEnd) {
    blob[wrappedEnd - 5]! ^= 0x40;
  },
};

/**
 * Declares the key source contract suite as vitest tests: a whole Coffer on SQLite whose keyring
 * is the KMS's key seals and reveals through it, reveals from the cache without a KMS call,
 * rotates and re-wraps, fails closed with `key_unavailable` in an outage while listing goes on,
 * names a missing or disabled key at start, refuses a tampered or moved wrapped key with
 * `integrity`, loses nothing when the KMS goes away in the middle of a re-wrap, and takes over
 * from the key file through `keyring.previous`. No case lets a planted value reach an error or
 * a log line. `skip` leaves cases out, each group with its reason.
 *
 * @example
 * import { runKeySourceContract } from '@coffer/backend-contract';
 * runKeySourceContract({
 *   name: 'acme-kms double',
 *   definition: acmeKms,
 *   rotates: true,
 *   start: async () => {
 *     const kms = await startAcmeKmsDouble();
 *     return {
 *       keyring: (extra) => ({ source: 'acme-kms', url: kms.url, keyName: 'coffer', ...extra }),
 *       configuredKey: 'coffer',
 *       keyId: `${kms.url}/keys/coffer`,
 *       operations: { wrap: 'Encrypt', unwrap: 'Decrypt' },
 *       requestCount: (operation) => kms.requests(operation),
 *       resetCounts: () => kms.resetRequests(),
 *       stop: () => kms.stop(),
 *       restart: () => kms.start(),
 *       close: () => kms.close(),
 *     };
 *   },
 *   skip: [
 *     { reason: 'Acme KMS has no slow-down fault', tests: ['loses nothing when the KMS goes away in the middle of a re-wrap'] },
 *     { reason: 'the double makes no second key', tests: ['names a disabled key at start', 'moves to a newly configured key without losing the old one'] },
 *   ],
 * });
 */
export function runKeySourceContract(options: KeySourceContractOptions): void {
  const skipped = new Map<string, string>();
  for (const group of options.skip ?? []) {
    if (typeof group.reason !== 'string' || group.reason.trim() === '') {
      throw new Error(`key source contract "${options.name}": every skip needs a reason`);
    }
    for (const name of group.tests) {
      if (!(name in keySourceCases)) {
        throw new Error(
          `key source contract "${options.name}": no case named "${name}" to skip; cases: ${keySourceCaseNames.join(', ')}`,
        );
      }
      skipped.set(name, group.reason);
    }
  }
  const timeout = options.timeoutMs ?? 60_000;
  const settings = {
    name: options.name,
    definition: options.definition,
    rotates: options.rotates,
    kekIdPattern: options.kekIdPattern,
    tamper: options.tamper ?? [flipOneBit],
    vendorDetails: options.vendorDetails ?? {},
    rewrapSecrets: options.rewrapSecrets ?? 40,
  };

  describe(`key source contract: ${options.name}`, () => {
    let kms: KmsUnderTest | undefined;
    beforeAll(async () => {
      kms = await options.start();
    }, timeout);
    afterAll(async () => {
      await kms?.close();
    }, timeout);

    for (const name of keySourceCaseNames) {
      const reason = skipped.get(name);
      if (reason !== undefined) {
        it.skip(`${name} (skipped: ${reason})`, () => {});
        continue;
      }
      const contractCase: KeySourceCase = keySourceCases[name];
      it(
        name,
        async (test) => {
          if (kms === undefined) throw new Error('start() did not start a KMS');
          const ctx: KeySourceCaseContext = { ...settings, kms };
          if (contractCase.rotates === true && !options.rotates) {
            test.skip('skipped: the key source cannot rotate (rotates: false)');
          }
          const missing = (contractCase.needs ?? []).filter((hook) => kms?.[hook] === undefined);
          if (missing.length > 0) {
            throw new Error(
              `this case needs ${missing.map((h) => `\`${h}\``).join(' and ')} from start(): give ${missing.length > 1 ? 'them' : 'it'}, or skip the case with a reason`,
            );
          }
          await contractCase.run(ctx);
        },
        timeout,
      );
    }
  });
}
