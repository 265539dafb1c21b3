import {
  type DoublePrincipal,
  type FaultPlan,
  GoogleApiError,
  type RecordedAnswer as GoogleRecordedAnswer,
  type GoogleRoute,
  type RunningServer,
  startGoogleRestServer,
} from '@coffer/gcp-kit/double';
import type { CloudKmsStore } from './kms-store.js';

/** One REST method the double serves, as Cloud KMS's discovery document names it. */
export interface DoubleRoute extends GoogleRoute<'crypto' | 'read' | 'write'> {
  httpMethod: 'GET' | 'POST' | 'PATCH';
}

const ring = 'v1/projects/{projectsId}/locations/{locationsId}/keyRings';
const key = `${ring}/{keyRingsId}/cryptoKeys/{cryptoKeysId}`;
const method = 'cloudkms.projects.locations.keyRings';

/** Every route the double serves. */
export const doubleRoutes: readonly DoubleRoute[] = Object.freeze([
  {
    rpc: 'CreateKeyRing',
    methodId: `${method}.create`,
    httpMethod: 'POST',
    flatPath: ring,
    permission: 'cloudkms.keyRings.create',
    quota: 'write',
  },
  {
    rpc: 'GetKeyRing',
    methodId: `${method}.get`,
    httpMethod: 'GET',
    flatPath: `${ring}/{keyRingsId}`,
    permission: 'cloudkms.keyRings.get',
    quota: 'read',
  },
  {
    rpc: 'CreateCryptoKey',
    methodId: `${method}.cryptoKeys.create`,
    httpMethod: 'POST',
    flatPath: `${ring}/{keyRingsId}/cryptoKeys`,
    permission: 'cloudkms.cryptoKeys.create',
    quota: 'write',
  },
  {
    rpc: 'GetCryptoKey',
    methodId: `${method}.cryptoKeys.get`,
    httpMethod: 'GET',
    flatPath: key,
    permission: 'cloudkms.cryptoKeys.get',
    quota: 'read',
  },
  {
    rpc: 'Encrypt',
    methodId: `${method}.cryptoKeys.encrypt`,
    httpMethod: 'POST',
    flatPath: `${key}:encrypt`,
    permission: 'cloudkms.cryptoKeyVersions.useToEncrypt',
    quota: 'crypto',
  },
  {
    rpc: 'Decrypt',
    methodId: `${method}.cryptoKeys.decrypt`,
    httpMethod: 'POST',
    flatPath: `${key}:decrypt`,
    permission: 'cloudkms.cryptoKeyVersions.useToDecrypt',
    quota: 'crypto',
  },
  {
    rpc: 'UpdateCryptoKeyPrimaryVersion',
    methodId: `${method}.cryptoKeys.updatePrimaryVersion`,
    httpMethod: 'POST',
    flatPath: `${key}:updatePrimaryVersion`,
    permission: 'cloudkms.cryptoKeys.update',
    quota: 'write',
  },
  {
    rpc: 'CreateCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.create`,
    httpMethod: 'POST',
    flatPath: `${key}/cryptoKeyVersions`,
    permission: 'cloudkms.cryptoKeyVersions.create',
    quota: 'write',
  },
  {
    rpc: 'ListCryptoKeyVersions',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.list`,
    httpMethod: 'GET',
    flatPath: `${key}/cryptoKeyVersions`,
    permission: 'cloudkms.cryptoKeyVersions.list',
    quota: 'read',
  },
  {
    rpc: 'GetCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.get`,
    httpMethod: 'GET',
    flatPath: `${key}/cryptoKeyVersions/{cryptoKeyVersionsId}`,
    permission: 'cloudkms.cryptoKeyVersions.get',
    quota: 'read',
  },
  {
    rpc: 'UpdateCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.patch`,
    httpMethod: 'PATCH',
    flatPath: `${key}/cryptoKeyVersions/{cryptoKeyVersionsId}`,
    permission: 'cloudkms.cryptoKeyVersions.update',
    quota: 'write',
  },
  {
    rpc: 'DestroyCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.destroy`,
    httpMethod: 'POST',
    flatPath: `${key}/cryptoKeyVersions/{cryptoKeyVersionsId}:destroy`,
    permission: 'cloudkms.cryptoKeyVersions.destroy',
    quota: 'write',
  },
]);

/** Request quotas per minute per project, after Cloud KMS's quota page. */
export interface QuotaLimits {
  cryptoPerMinute: number;
  readPerMinute: number;
  writePerMinute: number;
}

/** Cloud KMS's default quotas: 60,000 cryptographic requests, 300 reads and 60 writes a minute. */
export const cloudKmsQuotas: Readonly<QuotaLimits> = Object.freeze({
  cryptoPerMinute: 60_000,
  readPerMinute: 300,
  writePerMinute: 60,
});

/** One answer the double sent, for the discovery check. */
export type RecordedAnswer = GoogleRecordedAnswer<DoubleRoute>;

export interface CloudKmsServerOptions {
  store: CloudKmsStore;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Quotas to enforce; `false` turns them off. */
  quotas: QuotaLimits | false;
  record?: (answer: RecordedAnswer) => void;
  /** Access tokens issued so far; pass the same map to a restarted server so tokens stay valid. */
  tokens?: Map<string, DoublePrincipal>;
  host?: string;
  port?: number;
}

interface Matched {
  route: DoubleRoute;
  /** The resource name the path names (`projects/p/locations/l/keyRings/r/cryptoKeys/k`). */
  name: string;
  project: string;
}

const pathPattern =
  /^\/v1\/(projects\/([^/:]+)\/locations\/[^/:]+\/keyRings(?:\/[^/:]+(?:\/cryptoKeys(?:\/[^/:]+(?:\/cryptoKeyVersions(?:\/[^/:]+)?)?)?)?)?)(?::([A-Za-z]+))?$/;

/** The route a method and path stand for, with the resource name the path names. */
export function matchRoute(httpMethod: string, path: string): Matched | undefined {
  const m = pathPattern.exec(path);
  if (m === null) return undefined;
  const [, name, project, verb] = m;
  const segments = name!.split('/');
  const placeholders = [
    '{projectsId}',
    '{locationsId}',
    '{keyRingsId}',
    '{cryptoKeysId}',
    '{cryptoKeyVersionsId}',
  ];
  const template = segments.map((s, i) => (i % 2 === 0 ? s : placeholders[(i - 1) / 2])).join('/');
  const flatPath = `v1/${template}${verb === undefined ? '' : `:${verb}`}`;
  const route = doubleRoutes.find((r) => r.flatPath === flatPath && r.httpMethod === httpMethod);
  if (route === undefined) return undefined;
  return { route, name: segments.map(decodeURIComponent).join('/'), project: decodeURIComponent(project!) };
}

/**
 * An HTTP server speaking Cloud KMS's REST v1 (JSON over HTTP/1.1) with bearer tokens, and the STS
 * token exchange (`POST /v1/token`) that external-account credentials use to get them: the GCP
 * kit's Google REST server with Cloud KMS's routes.
 */
export function startCloudKmsServer(options: CloudKmsServerOptions): Promise<RunningServer> {
  const { store, quotas } = options;
  return startGoogleRestServer({
    service: 'cloudkms.googleapis.com',
    project: store,
    principals: options.principals,
    faults: options.faults,
    quotas:
      quotas === false
        ? false
        : { crypto: quotas.cryptoPerMinute, read: quotas.readPerMinute, write: quotas.writePerMinute },
    ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
    ...(options.record === undefined ? {} : { record: options.record }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    match: matchRoute,
    denied: ({ route, name }) =>
      `Permission '${route.permission}' denied on resource '${name}' (or it may not exist).`,
    serve: ({ route, name }, { input, query: q, intEnums }) => {
      const as = { intEnums };
      switch (route.rpc) {
        case 'CreateKeyRing':
          return store.createKeyRing(name.replace(/\/keyRings$/, ''), q.get('keyRingId') ?? undefined);
        case 'GetKeyRing':
          return store.getKeyRing(name);
        case 'CreateCryptoKey':
          return store.createCryptoKey(
            name.replace(/\/cryptoKeys$/, ''),
            q.get('cryptoKeyId') ?? undefined,
            input,
            q.get('skipInitialVersionCreation') === 'true',
            as,
          );
        case 'GetCryptoKey':
          return store.getCryptoKey(name, as);
        case 'Encrypt':
          return store.encrypt(name, input, as);
        case 'Decrypt':
          return store.decrypt(name, input, as);
        case 'UpdateCryptoKeyPrimaryVersion':
          return store.updatePrimaryVersion(name, input, as);
        case 'CreateCryptoKeyVersion':
          return store.createVersion(name.replace(/\/cryptoKeyVersions$/, ''), as);
        case 'ListCryptoKeyVersions':
          return store.listVersions(name.replace(/\/cryptoKeyVersions$/, ''), q, as);
        case 'GetCryptoKeyVersion':
          return store.getVersion(name, as);
        case 'UpdateCryptoKeyVersion':
          return store.patchVersion(name, q.get('updateMask') ?? undefined, input, as);
        case 'DestroyCryptoKeyVersion':
          return store.destroyVersion(name, as);
        default:
          throw new GoogleApiError('UNIMPLEMENTED', 'Method not implemented.');
      }
    },
  });
}
