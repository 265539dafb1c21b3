import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../plugin/route-context.js';
import type { KvEngine } from './kv-engine.js';
import { secretNameOf } from './kv-paths.js';
import { vaultEnvelope } from './vault-envelope.js';
import { VaultHttpError } from './vault-errors.js';

/** Every method a KV route answers; those a path does not support get Vault's 405. */
const kvMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

type Body = Record<string, unknown>;

/**
 * The KV v2 paths of one mount: `data/`, `metadata/` (with LIST), `delete/`, `undelete/`,
 * `destroy/` and `config`. Each handler parses the request, calls one operation of the KV
 * engine (which acts as the request's principal through core), and answers in Vault's shape.
 */
export function kvRoutes(app: FastifyInstance, mount: string, kv: KvEngine): void {
  const route = (
    url: string,
    handle: (request: FastifyRequest, reply: FastifyReply, path: string) => Promise<FastifyReply>,
  ) =>
    app.route({
      method: [...kvMethods],
      url,
      schema: { hide: true },
      handler: (request, reply) => handle(request, reply, (request.params as { '*'?: string })['*'] ?? ''),
    });

  route(`/${mount}/data/*`, async (request, reply, path) => {
    const method = methodOf(request);
    if (method === 'GET') {
      if (isList(request)) throw unsupportedOperation();
      const version = versionQuery(request);
      const read = await kv.read(actorOf(request), readName(path), version);
      return sendJson(reply, vaultEnvelope(read, [], 'kv'));
    }
    if (method === 'POST' || method === 'PATCH') {
      const body = bodyOf(request);
      const data = dataOf(body);
      const options = optionsOf(body);
      const name = writeName(path);
      if (method === 'PATCH') {
        assertMergePatch(request);
        const patched = await kv.patch(actorOf(request), name, data, { ...casOf(options) });
        return sendJson(reply, vaultEnvelope(patched.metadata, [], 'kv'));
      }
      const written = await kv.write(actorOf(request), name, data, { ...casOf(options), ...kindOf(options) });
      const warnings = written.unchanged ? ['the values did not change, so Coffer made no new version'] : [];
      return sendJson(reply, vaultEnvelope(written.metadata, warnings, 'kv'));
    }
    // DELETE: the latest version, which in Coffer means the secret (see kvEngine.deleteSecret).
    await kv.deleteSecret(actorOf(request), readName(path));
    return reply.code(204).send();
  });

  const metadata = async (request: FastifyRequest, reply: FastifyReply, path: string) => {
    const method = methodOf(request);
    if (method === 'GET' && isList(request)) {
      const keys = await kv.list(actorOf(request), path);
      if (keys === undefined) throw new VaultHttpError(404, []);
      return sendJson(reply, vaultEnvelope({ keys }, [], 'kv'));
    }
    if (method === 'GET') {
      return sendJson(reply, vaultEnvelope(await kv.metadata(actorOf(request), readName(path)), [], 'kv'));
    }
    if (method === 'POST' || method === 'PATCH') {
      if (method === 'PATCH') assertMergePatch(request);
      const body = bodyOf(request);
      const custom = body.custom_metadata;
      if (custom !== undefined && (custom === null || typeof custom !== 'object' || Array.isArray(custom))) {
        throw new VaultHttpError(400, ['custom_metadata: must be a map of strings']);
      }
      await kv.writeMetadata(
        actorOf(request),
        writeName(path),
        {
          maxVersions: body.max_versions,
          casRequired: body.cas_required,
          deleteVersionAfter: body.delete_version_after,
          ...(custom === undefined ? {} : { customMetadata: custom as Body }),
        },
        method === 'PATCH',
      );
      return reply.code(204).send();
    }
    await kv.deleteSecret(actorOf(request), readName(path));
    return reply.code(204).send();
  };
  route(`/${mount}/metadata/*`, metadata);
  // LIST of the mount's root may come without the trailing slash.
  route(`/${mount}/metadata`, (request, reply) => metadata(request, reply, ''));

  const versionsRoute = (
    operation: 'delete' | 'undelete' | 'destroy',
    run: (request: FastifyRequest, name: string, versions: number[]) => Promise<void>,
  ) =>
    route(`/${mount}/${operation}/*`, async (request, reply, path) => {
      if (methodOf(request) !== 'POST') throw unsupportedOperation();
      const versions = versionsOf(bodyOf(request));
      await run(request, readName(path), versions);
      return reply.code(204).send();
    });
  versionsRoute('delete', (request, name, versions) => kv.deleteVersions(actorOf(request), name, versions));
  versionsRoute('undelete', (request, name, versions) => kv.undelete(actorOf(request), name, versions));
  versionsRoute('destroy', (request, name, versions) => kv.destroy(actorOf(request), name, versions));

  route(`/${mount}/config`, async (request, reply) => {
    const method = methodOf(request);
    if (method === 'GET') return sendJson(reply, vaultEnvelope(kv.config(), [], 'kv'));
    if (method !== 'POST') throw unsupportedOperation();
    const body = bodyOf(request);
    kv.writeConfig({
      maxVersions: body.max_versions,
      casRequired: body.cas_required,
      deleteVersionAfter: body.delete_version_after,
    });
    return reply.code(204).send();
  });
}

/** Sends a Vault answer: `application/json` exactly (hvac parses errors only then), never cached. */
export function sendJson(reply: FastifyReply, payload: unknown, status = 200): FastifyReply {
  // Sent as bytes: for a string Fastify would add "; charset=utf-8" to the type.
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(payload)));
}

/** Vault treats PUT as POST. */
function methodOf(request: FastifyRequest): string {
  return request.method === 'PUT' ? 'POST' : request.method;
}

function unsupportedOperation(): VaultHttpError {
  return new VaultHttpError(405, ['unsupported operation']);
}

/** `?list=true` (Go's ParseBool spellings), as Vault's clients send LIST without custom methods. */
function isList(request: FastifyRequest): boolean {
  const list = (request.query as Record<string, unknown>).list;
  return typeof list === 'string' && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(list);
}

/** The secret a read, delete or undelete names: no secret can live at an impossible path (404). */
function readName(path: string): string {
  const name = secretNameOf(path);
  if (name === undefined) throw new VaultHttpError(404, []);
  return name;
}

/** The secret a write names: an impossible path is the caller's mistake (400, saying why). */
function writeName(path: string): string {
  const name = secretNameOf(path);
  if (name === undefined) {
    throw new VaultHttpError(400, [
      "Coffer cannot store a secret at this path: each segment is letters, digits, '_' and '-', starts with a letter or digit and holds no '__', and the whole path is at most 128 characters (see docs/vault-api.md)",
    ]);
  }
  return name;
}

function bodyOf(request: FastifyRequest): Body {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new VaultHttpError(400, ['the request body must be a JSON object']);
  }
  return body as Body;
}

function dataOf(body: Body): Body {
  const data = body.data;
  if (data === undefined || data === null) throw new VaultHttpError(400, ['no data provided']);
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new VaultHttpError(400, ['data: must be a map of field names to values']);
  }
  return data as Body;
}

function optionsOf(body: Body): Body {
  const options = body.options;
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new VaultHttpError(400, ['options: must be a map']);
  }
  return options as Body;
}

/** `options.cas`, a whole number (Vault also takes it as a numeric string). */
function casOf(options: Body): { cas?: number } {
  const raw = options.cas;
  if (raw === undefined || raw === null) return {};
  const cas = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof cas !== 'number' || !Number.isSafeInteger(cas) || cas < 0) {
    throw new VaultHttpError(400, ['error parsing check-and-set parameter']);
  }
  return { cas };
}

/** `options.kind`: the Coffer kind a new secret gets (Coffer's hint; Vault ignores unknown options). */
function kindOf(options: Body): { kind?: string } {
  const kind = options.kind;
  if (kind === undefined || kind === null) return {};
  if (typeof kind !== 'string' || kind === '')
    throw new VaultHttpError(400, ['options.kind: must be a kind id']);
  return { kind };
}

/** `?version=n`: a version number, 0 (or none) meaning the latest. */
function versionQuery(request: FastifyRequest): number | undefined {
  const raw = (request.query as Record<string, unknown>).version;
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) {
    throw new VaultHttpError(400, ['version: must be a whole number']);
  }
  const version = Number(raw);
  return version === 0 ? undefined : version;
}

/** `versions`: a list of version numbers, or a comma-separated string of them, as Vault accepts. */
function versionsOf(body: Body): number[] {
  const raw = body.versions;
  const list =
    typeof raw === 'string'
      ? raw.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN))
      : raw;
  if (!Array.isArray(list) || list.length === 0)
    throw new VaultHttpError(400, ['no version number provided']);
  const versions = list.map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v));
  if (!versions.every((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new VaultHttpError(400, ['versions: must be version numbers']);
  }
  return versions;
}

/** Vault takes PATCH only as a JSON merge patch, and says 415 otherwise. */
function assertMergePatch(request: FastifyRequest): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/merge-patch+json') {
    throw new VaultHttpError(415, ['PATCH needs Content-Type: application/merge-patch+json']);
  }
}
