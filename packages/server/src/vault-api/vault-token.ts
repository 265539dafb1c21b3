import type { FastifyRequest } from 'fastify';

const tokenPattern = /^[A-Za-z0-9._~+/=-]{1,512}$/;
const bearerPattern = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]{1,512})[ \t]*$/i;

/**
 * The token a Vault client sent: `X-Vault-Token` (what every Vault client sends), else
 * `Authorization: Bearer`. Undefined when there is none or it cannot be a token.
 *
 * @example
 * presentedToken(request); // 'cfr_…'
 */
export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') {
    const token = header.trim();
    return tokenPattern.test(token) ? token : undefined;
  }
  const authorization = request.headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  return bearerPattern.exec(authorization)?.[1];
}
