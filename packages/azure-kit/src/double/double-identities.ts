import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An application of a double's tenant: the environment `EnvironmentCredential` reads for it. */
export interface DoubleIdentity {
  clientId: string;
  clientSecret: string;
  env: Record<string, string>;
}

/**
 * The environment that makes `DefaultAzureCredential` sign in as this application of the
 * double's tenant, and only so (`AZURE_TOKEN_CREDENTIALS=EnvironmentCredential`: never the managed
 * identity endpoint at 169.254.169.254 or the Azure CLI).
 *
 * @example
 * Object.assign(process.env, doubleIdentity(tenantId, officer).env);
 */
export function doubleIdentity(
  tenantId: string,
  application: { clientId: string; clientSecret: string },
): DoubleIdentity {
  const { clientId, clientSecret } = application;
  return {
    clientId,
    clientSecret,
    env: {
      AZURE_TENANT_ID: tenantId,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
      AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential',
    },
  };
}

/**
 * The other identities a double hands its tests: each of `others` (applications with fewer
 * rights), and `wrongSecret`, the main application with a client secret the tenant refuses.
 *
 * @example
 * const identities = doubleIdentities(tenantId, officer, { reader }); // { reader, wrongSecret }
 */
export function doubleIdentities<Name extends string>(
  tenantId: string,
  main: { clientId: string },
  others: Record<Name, { clientId: string; clientSecret: string }>,
): Record<Name | 'wrongSecret', DoubleIdentity> {
  const out = {} as Record<Name | 'wrongSecret', DoubleIdentity>;
  for (const name of Object.keys(others) as Name[]) out[name] = doubleIdentity(tenantId, others[name]);
  out.wrongSecret = doubleIdentity(tenantId, {
    clientId: main.clientId,
    clientSecret: 'double~not-the-secret',
  });
  return out;
}

/**
 * A double's certificate as a PEM file in a temporary folder, for the clients that trust it
 * (Coffer's `caCertificatesFile`, Python's `REQUESTS_CA_BUNDLE`).
 *
 * @example
 * const ca = new CertificateFile('coffer-azure-double-', certificate.certPem);
 * settings.caCertificatesFile = ca.path;
 */
export class CertificateFile {
  readonly #dir: string;
  readonly path: string;

  constructor(prefix: string, certPem: string) {
    this.#dir = mkdtempSync(join(tmpdir(), prefix));
    this.path = join(this.#dir, 'double-ca.pem');
    writeFileSync(this.path, certPem, { mode: 0o644 });
  }

  /** Removes the file and its folder. */
  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * The settings that point a Coffer package at a double on 127.0.0.1: the vault and the
 * authority are the double, trusted as they are (no instance discovery at
 * login.microsoftonline.com, no check that the vault's host lies under the challenge's resource
 * domain), with the double's certificate as the one extra CA.
 *
 * @example
 * const config = { type: 'azure-key-vault', ...doubleVaultSettings(running.url, ca.path) };
 */
export function doubleVaultSettings(
  url: string,
  caFile: string,
): {
  vaultUrl: string;
  authorityHost: string;
  disableInstanceDiscovery: true;
  disableChallengeResourceVerification: true;
  caCertificatesFile: string;
} {
  return {
    vaultUrl: url,
    authorityHost: url,
    disableInstanceDiscovery: true,
    disableChallengeResourceVerification: true,
    caCertificatesFile: caFile,
  };
}
