import { createHash } from 'node:crypto';
import type { Actor, Coffer, TokenInfo } from '@coffer/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../plugin/route-context.js';
import { serverVersion } from '../version.js';
import { sendJson } from './kv-routes.js';
import { vaultEnvelope } from './vault-envelope.js';
import { VaultHttpError } from './vault-errors.js';
import { presentedToken } from './vault-token.js';

/**
 * The Vault API level this door speaks (KV v2 with custom_metadata and PATCH), with Coffer's
 * own version as build metadata, so a client that checks versions sees a Vault it supports
 * and a person sees what answers.
 */
export const vaultApiVersion = `1.15.0+coffer.${serverVersion}`;

/**
 * The `sys/` and `auth/token/` paths Vault clients call besides the KV engine: health and
 * seal status (unauthenticated, as in Vault), the mount list and the kv helper's mount
 * lookup (`options.version: "2"`), and the token self-lookup.
 */
export function sysRoutes(app: FastifyInstance, mount: string, coffer: Coffer): void {
  const mountInfo = kvMountInfo(mount);

  app.route({
    method: ['GET', 'HEAD'],
    url: '/sys/health',
    schema: { hide: true },
    config: { cofferPublic: true },
    handler: async (request, reply) => {
      const available = await databaseReachable(coffer);
      const query = request.query as Record<string, unknown>;
      const okCode = statusParam(query.activecode, 200);
      const unavailableCode = statusParam(query.sealedcode, 503);
      return sendJson(
        reply,
        {
          initialized: true,
          sealed: false,
          standby: false,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000),
          version: vaultApiVersion,
          cluster_name: 'coffer',
          cluster_id: '',
        },
        available ? okCode : unavailableCode,
      );
    },
  });

  app.get(
    '/sys/seal-status',
    { schema: { hide: true }, config: { cofferPublic: true } },
    async (_request, reply) =>
      sendJson(reply, {
        type: 'shamir',
        initialized: true,
        sealed: false,
        t: 1,
        n: 1,
        progress: 0,
        nonce: '',
        version: vaultApiVersion,
        build_date: '',
        migration: false,
        cluster_name: 'coffer',
        cluster_id: '',
        recovery_seal: false,
        storage_type: 'coffer',
      }),
  );

  app.get('/sys/mounts', { schema: { hide: true } }, async (_request, reply) => {
    const mounts = { [`${mount}/`]: mountInfo };
    return sendJson(reply, { ...mounts, ...vaultEnvelope(mounts) });
  });

  app.get('/sys/internal/ui/mounts/*', { schema: { hide: true } }, async (request, reply) => {
    const path = (request.params as { '*'?: string })['*'] ?? '';
    if (path !== mount && !path.startsWith(`${mount}/`)) {
      throw new VaultHttpError(400, [
        `no mount at this path: Coffer serves one KV version 2 mount, "${mount}/"`,
      ]);
    }
    return sendJson(reply, vaultEnvelope({ ...mountInfo, path: `${mount}/` }));
  });

  const lookupSelf = async (request: FastifyRequest, reply: FastifyReply) => {
    const actor = actorOf(request);
    const resolved = await coffer.identity.resolveActor(actor);
    const info =
      resolved.tokenId === undefined ? undefined : await tokenInfo(coffer, actor, resolved.tokenId);
    const now = Date.now();
    const expires = info?.expiresAt == null ? null : Date.parse(info.expiresAt);
    const created = info === undefined ? now : Date.parse(info.createdAt);
    return sendJson(
      reply,
      vaultEnvelope({
        accessor: '',
        creation_time: Math.floor(created / 1000),
        creation_ttl: expires === null ? 0 : Math.max(0, Math.floor((expires - created) / 1000)),
        display_name: `token-${info?.name ?? resolved.name}`,
        entity_id: resolved.id,
        expire_time: info?.expiresAt ?? null,
        explicit_max_ttl: 0,
        // The token the client sent, as Vault answers (clients read their own token back).
        id: presentedToken(request) ?? '',
        issue_time: new Date(created).toISOString(),
        meta: {
          username: resolved.name,
          scope: resolved.scope,
          ...(resolved.role === null ? {} : { role: resolved.role }),
        },
        num_uses: 0,
        orphan: true,
        path: 'auth/token/create',
        policies: ['default'],
        renewable: false,
        ttl: expires === null ? 0 : Math.max(0, Math.floor((expires - now) / 1000)),
        type: 'service',
      }),
    );
  };
  app.get('/auth/token/lookup-self', { schema: { hide: true } }, lookupSelf);
  app.post('/auth/token/lookup-self', { schema: { hide: true } }, lookupSelf);
}

/** What Vault says about a KV version 2 mount. */
function kvMountInfo(mount: string) {
  const digest = createHash('sha256').update(`coffer-kv:${mount}`).digest('hex');
  return {
    accessor: `kv_${digest.slice(0, 8)}`,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description: "Coffer's secrets, KV version 2-compatible",
    external_entropy_access: false,
    local: false,
    options: { version: '2' },
    plugin_version: '',
    running_plugin_version: '',
    running_sha256: '',
    seal_wrap: false,
    type: 'kv',
    // Stable across restarts and replicas: derived from the mount name.
    uuid: `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`,
  };
}

/** The token's own record (name, creation, expiry), found among the caller's tokens. */
async function tokenInfo(coffer: Coffer, actor: Actor, tokenId: string): Promise<TokenInfo | undefined> {
  let cursor: string | null = null;
  do {
    const page = await coffer.identity.listTokens(actor, { limit: 1000, cursor });
    const found = page.items.find((t) => t.id === tokenId);
    if (found !== undefined) return found;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return undefined;
}

async function databaseReachable(coffer: Coffer): Promise<boolean> {
  try {
    await coffer.database.db.selectFrom('users').select('id').limit(1).execute();
    return true;
  } catch {
    return false;
  }
}

/** `sys/health`'s status overrides (`activecode`, `sealedcode`), as Vault takes them. */
function statusParam(raw: unknown, fallback: number): number {
  if (typeof raw !== 'string' || !/^\d{3}$/.test(raw)) return fallback;
  const code = Number(raw);
  return code >= 200 && code <= 599 ? code : fallback;
}
