import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DoublePrincipal } from './google-rest-server.js';

/** The project number a double answers to besides its project id. */
export const doubleProjectNumber = '123456789012';

/**
 * A principal of a double: a fresh subject token (`subject-<label>-<random>`) and, when given,
 * the only permissions it has.
 *
 * @example
 * const reader = doublePrincipal('reader', new Set(['secretmanager.versions.access']));
 */
export function doublePrincipal(label: string, permissions?: ReadonlySet<string>): DoublePrincipal {
  const subjectToken = `subject-${label}-${randomBytes(12).toString('hex')}`;
  return permissions === undefined ? { subjectToken } : { subjectToken, permissions };
}

/**
 * Credential configuration files of the `external_account` kind (workload identity federation)
 * in a temporary folder: Application Default Credentials read one through
 * GOOGLE_APPLICATION_CREDENTIALS, read the subject token from the file it names, and exchange it
 * at the double's STS endpoint (`<url>/v1/token`) for an access token, as a real deployment does
 * with a workload identity pool.
 *
 * @example
 * const files = new ExternalAccountFiles('coffer-gcp-double-', `${running.url}/v1/token`);
 * const env = { GOOGLE_APPLICATION_CREDENTIALS: files.write('main', main.subjectToken) };
 */
export class ExternalAccountFiles {
  readonly dir: string;

  constructor(
    prefix: string,
    readonly tokenUrl: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Writes the subject token and a configuration file that reads it; returns the configuration's path. */
  write(label: string, subjectToken: string): string {
    const tokenFile = join(this.dir, `${label}.token`);
    writeFileSync(tokenFile, subjectToken, { mode: 0o600 });
    const file = join(this.dir, `${label}.json`);
    const config = {
      type: 'external_account',
      audience: `//iam.googleapis.com/projects/${doubleProjectNumber}/locations/global/workloadIdentityPools/coffer-double/providers/${label}`,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: this.tokenUrl,
      credential_source: { file: tokenFile },
    };
    writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    return file;
  }

  /** A configuration file for an identity the double does not know. */
  writeUnknown(): string {
    return this.write('unknown', `subject-unknown-${randomBytes(12).toString('hex')}`);
  }

  /** Removes the folder and every file in it. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
