import { CliError } from '../errors/cli-error.js';
import type { CliConfig } from './config-store.js';

/** Where the CLI talks to when nothing says otherwise: `npm start`'s address. */
export const defaultAddress = 'http://127.0.0.1:8470';

/** The server address and the token to send it, and where each came from. */
export interface Credentials {
  address: string;
  addressFrom: 'flag' | 'env' | 'config' | 'default';
  token: string | undefined;
  tokenFrom: 'env' | 'config' | undefined;
}

/**
 * `http://host:port` without a trailing slash or `/api/v1`, so one server has one key in the
 * config file however its address was typed.
 */
export function normalizeAddress(raw: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new CliError('usage', `not a server address: ${JSON.stringify(raw)} (e.g. http://127.0.0.1:8470)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('usage', `the server address must be http:// or https:// (got ${url.protocol})`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * The address: `--addr`, else `COFFER_ADDR`, else the one last logged in to, else the
 * default. The token: `COFFER_TOKEN`, else the one stored for that very address. A stored
 * token is only ever sent to the server that issued it.
 */
export function resolveCredentials(
  config: CliConfig,
  env: NodeJS.ProcessEnv,
  flagAddress: string | undefined,
): Credentials {
  let address: string;
  let addressFrom: Credentials['addressFrom'];
  if (flagAddress !== undefined && flagAddress !== '') {
    address = normalizeAddress(flagAddress);
    addressFrom = 'flag';
  } else if (env.COFFER_ADDR !== undefined && env.COFFER_ADDR !== '') {
    address = normalizeAddress(env.COFFER_ADDR);
    addressFrom = 'env';
  } else if (config.current !== undefined) {
    address = normalizeAddress(config.current);
    addressFrom = 'config';
  } else {
    address = defaultAddress;
    addressFrom = 'default';
  }
  if (env.COFFER_TOKEN !== undefined && env.COFFER_TOKEN !== '') {
    return { address, addressFrom, token: env.COFFER_TOKEN, tokenFrom: 'env' };
  }
  const stored = config.servers[address]?.token;
  return { address, addressFrom, token: stored, tokenFrom: stored === undefined ? undefined : 'config' };
}
