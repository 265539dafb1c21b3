import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { CofferError } from '../errors/coffer-error.js';

/** Argon2id parameters. */
export interface PasswordHashParameters {
  /** KiB of memory per hash. */
  memoryCost: number;
  /** Passes over the memory. */
  timeCost: number;
  parallelism: number;
}

/** OWASP's argon2id recommendation (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane. */
export const owaspArgon2idParameters: PasswordHashParameters = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

export const minPasswordLength = 12;
export const maxPasswordLength = 1024;

// `Algorithm` is an ambient const enum, which isolated modules cannot read by name.
const argon2id = 2 as Algorithm;

/**
 * Hashes and checks passwords with argon2id.
 *
 * @example
 * const hasher = createPasswordHasher();
 * const stored = await hasher.hash('correct horse battery');
 * await hasher.verify(stored, 'correct horse battery'); // true
 */
export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh random salt. */
  hash(password: string): Promise<string>;
  /** False (never a throw) for a wrong password or a malformed stored hash. */
  verify(storedHash: string, password: string): Promise<boolean>;
  /**
   * Spends as long as a real verification and returns false: used when there is no user to
   * check against, so response time does not reveal whether a username exists.
   */
  verifyDummy(password: string): Promise<false>;
  /** Whether a stored hash used weaker parameters than configured and should be redone at login. */
  needsRehash(storedHash: string): boolean;
}

/**
 * Creates a password hasher; parameters default to OWASP's.
 *
 * @example
 * const hasher = createPasswordHasher(owaspArgon2idParameters);
 */
export function createPasswordHasher(
  parameters: PasswordHashParameters = owaspArgon2idParameters,
): PasswordHasher {
  const options = { ...parameters, algorithm: argon2id };
  let dummy: Promise<string> | undefined;
  // Computed on first use and kept, so only the first unknown-user login pays for it twice.
  const dummyHash = () => {
    dummy ??= hash(randomBytes(32).toString('base64url'), options);
    return dummy;
  };

  return {
    hash: (password) => hash(password, options),
    async verify(storedHash, password) {
      try {
        return await verify(storedHash, password);
      } catch {
        return false;
      }
    },
    async verifyDummy(password) {
      await verify(await dummyHash(), password).catch(() => false);
      return false;
    },
    needsRehash(storedHash) {
      try {
        const used = parseOptions(storedHash);
        return (
          used.algorithm !== argon2id ||
          used.memoryCost < parameters.memoryCost ||
          used.timeCost < parameters.timeCost ||
          used.parallelism !== parameters.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}

/**
 * Checks a new password against the policy: 12 to 1024 characters (counted as Unicode code
 * points). Length is the rule NIST SP 800-63B keeps; composition rules are not enforced.
 * The error never contains the password.
 *
 * @example
 * assertPasswordPolicy(input.password, 'password');
 */
export function assertPasswordPolicy(password: unknown, path = 'password'): asserts password is string {
  if (typeof password !== 'string') {
    throw CofferError.validation([{ path, message: 'expected a string' }]);
  }
  const length = passwordLength(password);
  if (length < minPasswordLength || length > maxPasswordLength) {
    throw CofferError.validation([
      { path, message: `must be ${minPasswordLength} to ${maxPasswordLength} characters long` },
    ]);
  }
}

/** Length in code points, so an emoji counts as one character, as a user would count it. */
export function passwordLength(password: string): number {
  let n = 0;
  for (const _ of password) n++;
  return n;
}

/**
 * A strong random password (32 characters of base64url, 192 bits), e.g. for the first admin.
 *
 * @example
 * const password = generatePassword();
 */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}
