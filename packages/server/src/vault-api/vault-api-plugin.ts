import { type Coffer, CofferError, isCofferError } from '@coffer/core';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { kvEngine } from './kv-engine.js';
import { kvRoutes, sendJson } from './kv-routes.js';
import { sysRoutes } from './sys-routes.js';
import { permissionDenied, VaultHttpError, vaultErrorOf } from './vault-errors.js';
import { presentedToken } from './vault-token.js';

/**
 * Options of {@link vaultApiPlugin}.
 *
 * @example
 * { coffer, mount: 'secret' }
 */
export interface VaultApiPluginOptions {
  /** The engine the door serves. The plugin never closes it. */
  coffer: Coffer;
  /** The KV version 2 mount name under the prefix (default `secret`). */
  mount?: string;
  /** The largest request body, in bytes (default 2 MiB). */
  bodyLimit?: number;
}

/**
 * A Vault KV version 2-compatible door to Coffer's secrets, as a Fastify plugin: register it
 * at the prefix `/v1` so Vault clients (hvac, node-vault, the `vault` CLI, External Secrets
 * Operator, Vault Agent) read and write Coffer secrets unchanged. It takes Coffer API tokens
 * in `X-Vault-Token` (or `Authorization: Bearer`), and every operation acts as the token's
 * principal in core: Coffer's shares, not Vault policies, decide, and every access is
 * audited. Everything is encapsulated: its body parser, error and not-found handlers apply to
 * its own routes only. docs/vault-api.md has the mapping and what is not supported.
 *
 * Vault clients send LIST as an HTTP method that Node's parser refuses; pass
 * {@link vaultListBridge} as Fastify's `clientErrorHandler` to answer those too.
 *
 * @example
 * const app = Fastify({ clientErrorHandler: vaultListBridge() });
 * await app.register(vaultApiPlugin, { prefix: '/v1', coffer });
 */
export const vaultApiPlugin: FastifyPluginAsync<VaultApiPluginOptions> = async (app, options) => {
  const coffer = options.coffer;
  if (coffer === undefined)
    throw new CofferError('invalid_config', 'vaultApiPlugin needs the `coffer` option');
  const mount = options.mount ?? 'secret';
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(mount) || ['sys', 'auth', 'identity', 'cubbyhole'].includes(mount)) {
    throw new CofferError('invalid_config', `vaultApiPlugin: "${mount}" cannot be a mount name`);
  }

  installAnyJsonParser(app, options.bodyLimit ?? 2 * 1024 * 1024);
  if (!app.hasRequestDecorator('cofferAuth')) app.decorateRequest('cofferAuth', null);

  app.addHook('onRequest', async (request) => {
    refuseUnsupportedHeaders(request);
    if (request.is404 || request.routeOptions.config.cofferPublic === true) return;
    const token = presentedToken(request);
    // Vault answers a missing or unknown token with 403 "permission denied"; clients rely on it.
    if (token === undefined) throw new VaultHttpError(403, [permissionDenied]);
    try {
      const actor = await coffer.identity.authenticateToken(token, { source: 'api', address: request.ip });
      request.cofferAuth = { actor, via: 'token' };
    } catch (err) {
      if (isCofferError(err, 'unauthenticated')) throw new VaultHttpError(403, [permissionDenied]);
      throw err;
    }
  });

  app.setErrorHandler((err, request, reply) => sendVaultError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendVaultError(new VaultHttpError(404, ['unsupported path']), request, reply),
  );

  kvRoutes(app, mount, kvEngine(coffer));
  sysRoutes(app, mount, coffer);
  // A route of its own for every other path: a host's catch-all (the web UI's static files at
  // `/*`) would otherwise take them and answer in its own shape.
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    schema: { hide: true },
    handler: async () => {
      throw new VaultHttpError(404, ['unsupported path']);
    },
  });
};

/**
 * Vault's namespaces belong to Vault Enterprise and response wrapping to Vault's cubbyhole;
 * Coffer has neither, and answering such a request as if it did would mislead the client
 * (one team's namespace would read everyone's mount, a wrapped answer would arrive unwrapped).
 */
function refuseUnsupportedHeaders(request: FastifyRequest): void {
  const namespace = request.headers['x-vault-namespace'];
  if (typeof namespace === 'string' && !['', 'root', 'root/'].includes(namespace.trim())) {
    throw new VaultHttpError(400, [
      'namespaces are not supported by Coffer; unset X-Vault-Namespace (VAULT_NAMESPACE)',
    ]);
  }
  const wrapTtl = request.headers['x-vault-wrap-ttl'];
  if (typeof wrapTtl === 'string' && wrapTtl.trim() !== '') {
    throw new VaultHttpError(400, ['response wrapping is not supported by Coffer; unset X-Vault-Wrap-TTL']);
  }
}

/**
 * Vault reads a JSON body whatever its Content-Type says (its Go client sends none), and an
 * empty body is no body.
 */
function installAnyJsonParser(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, (err, value) => {
      // The parser's message may quote the body, which may hold a value: say only what failed.
      if (err !== null) done(new VaultHttpError(400, ['failed to parse JSON input']), undefined);
      else done(null, value);
    });
  });
}

function sendVaultError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, errors, log } = vaultErrorOf(err);
  if (log) request.log.error({ err }, 'request failed');
  else if (status >= 500) request.log.warn({ status }, errors[0] ?? 'request failed');
  if (status === 429) {
    const seconds = isCofferError(err) ? Number(err.details.retryAfterSeconds) : Number.NaN;
    reply.header('retry-after', String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1));
  }
  return sendJson(reply, { errors }, status);
}
