import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import { CofferError } from '@coffer/core';

/** The settings of a Key Vault client that Coffer's Azure packages share. */
export interface KeyVaultConnectionSettings {
  vaultUrl: string;
  authorityHost?: string | undefined;
  disableInstanceDiscovery: boolean;
  disableChallengeResourceVerification: boolean;
  requestTimeoutMs: number;
}

/**
 * What a Key Vault SDK client and its `DefaultAzureCredential` are given, as plain options (the
 * SDKs stay in the packages, which cast them to the SDK's option types).
 */
export interface KeyVaultClientParts {
  /** The vault's URL without a trailing slash. */
  vaultUrl: string;
  /** Options of `DefaultAzureCredential`. */
  credentialOptions: Record<string, unknown>;
  /** Options of the vault's clients (`SecretClient`, `KeyClient`, `CryptographyClient`). */
  clientOptions: Record<string, unknown>;
  /** The HTTPS agent both share when there are extra certificate authorities; destroy it on close. */
  agent: Agent | undefined;
}

/**
 * A pipeline policy that puts `timeoutMs` on every HTTP request a client sends (the SDK's own
 * retries are off, so one request is one attempt); an expired request fails with `AbortError`,
 * which {@link classifyAzureSdkError} reads as a timeout.
 *
 * @example
 * new SecretClient(url, credential, { additionalPolicies: [requestTimeoutPolicy(5_000)] as SecretClientOptions['additionalPolicies'] });
 */
export function requestTimeoutPolicy(timeoutMs: number): {
  policy: {
    name: string;
    sendRequest(request: unknown, next: (request: unknown) => Promise<unknown>): unknown;
  };
  position: 'perRetry';
} {
  return {
    policy: {
      name: 'cofferRequestTimeout',
      sendRequest(request, next) {
        (request as { timeout: number }).timeout = timeoutMs;
        return next(request);
      },
    },
    position: 'perRetry',
  };
}

/**
 * The certificate authorities of a PEM file added to Node's own. `setting` names it in the
 * error (`backends.azure.caCertificatesFile`), `configuration` says whose setting it is.
 *
 * @example
 * const ca = trustedCertificates('/etc/coffer/ca.pem', 'keyring.caCertificatesFile', 'keyring');
 */
export function trustedCertificates(
  path: string,
  setting: string,
  configuration: 'backend' | 'keyring',
): string[] {
  const refuse = (problem: string, issue: string) =>
    new CofferError('invalid_config', `invalid ${configuration} configuration: ${setting}: ${problem}`, {
      details: { issues: [{ path: setting, message: issue }] },
    });
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw refuse(`cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`, 'cannot be read');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw refuse(`${path} holds no PEM certificate`, 'holds no PEM certificate');
  }
  return [...rootCertificates, pem];
}

/**
 * The options of a Key Vault client and its `DefaultAzureCredential` (whose chain is the
 * vendor's usual one; nothing of it is stored by Coffer): the SDK's retries off (Coffer's retry
 * layer is the one), a time limit on every request, the authority settings, and with extra
 * certificate authorities (`ca`) one HTTPS agent that the vault's and Entra ID's requests share.
 * TLS verification is never turned off.
 *
 * @example
 * const parts = keyVaultClientParts(config, { maxSockets: 16, ca: undefined });
 * const credential = new DefaultAzureCredential(parts.credentialOptions as DefaultAzureCredentialClientIdOptions);
 */
export function keyVaultClientParts(
  settings: KeyVaultConnectionSettings,
  options: { maxSockets: number; ca: string[] | undefined },
): KeyVaultClientParts {
  const { ca } = options;
  // With extra CAs, one agent and one TLS context for every client: handing the SDK `ca` instead
  // would parse Node's ~140 root certificates again for every new connection, on the event loop.
  const agent =
    ca === undefined
      ? undefined
      : new Agent({
          keepAlive: true,
          maxSockets: options.maxSockets,
          secureContext: createSecureContext({ ca }),
        });
  const common = {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [requestTimeoutPolicy(settings.requestTimeoutMs)],
    ...(agent === undefined ? {} : { agent }),
  };
  return {
    vaultUrl: settings.vaultUrl.replace(/\/+$/, ''),
    credentialOptions: {
      ...common,
      ...(settings.authorityHost === undefined ? {} : { authorityHost: settings.authorityHost }),
      ...(settings.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
    },
    clientOptions: {
      ...common,
      userAgentOptions: { userAgentPrefix: 'coffer' },
      ...(settings.disableChallengeResourceVerification
        ? { disableChallengeResourceVerification: true }
        : {}),
    },
    agent,
  };
}
