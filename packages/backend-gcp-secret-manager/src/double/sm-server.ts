import {
  type DoublePrincipal,
  type FaultPlan,
  GoogleApiError,
  type RecordedAnswer as GoogleRecordedAnswer,
  type GoogleRoute,
  type RunningServer,
  startGoogleRestServer,
} from '@coffer/gcp-kit/double';
import type { SecretManagerStore } from './sm-store.js';

/** One REST method the double serves, as the discovery document names it. */
export interface DoubleRoute extends GoogleRoute<'access' | 'read' | 'write'> {
  httpMethod: 'GET' | 'POST' | 'PATCH' | 'DELETE';
}

const global = (
  rpc: string,
  id: string,
  httpMethod: DoubleRoute['httpMethod'],
  path: string,
  permission: string,
  quota: DoubleRoute['quota'],
): DoubleRoute[] => [
  {
    rpc,
    methodId: `secretmanager.projects.${id}`,
    httpMethod,
    flatPath: `v1/projects/{projectsId}/${path}`,
    permission,
    quota,
  },
  {
    rpc,
    methodId: `secretmanager.projects.locations.${id}`,
    httpMethod,
    flatPath: `v1/projects/{projectsId}/locations/{locationsId}/${path}`,
    permission,
    quota,
  },
];

/** Every route the double serves, global and regional. */
export const doubleRoutes: readonly DoubleRoute[] = Object.freeze([
  ...global('ListSecrets', 'secrets.list', 'GET', 'secrets', 'secretmanager.secrets.list', 'read'),
  ...global('CreateSecret', 'secrets.create', 'POST', 'secrets', 'secretmanager.secrets.create', 'write'),
  ...global('GetSecret', 'secrets.get', 'GET', 'secrets/{secretsId}', 'secretmanager.secrets.get', 'read'),
  ...global(
    'UpdateSecret',
    'secrets.patch',
    'PATCH',
    'secrets/{secretsId}',
    'secretmanager.secrets.update',
    'write',
  ),
  ...global(
    'DeleteSecret',
    'secrets.delete',
    'DELETE',
    'secrets/{secretsId}',
    'secretmanager.secrets.delete',
    'write',
  ),
  ...global(
    'AddSecretVersion',
    'secrets.addVersion',
    'POST',
    'secrets/{secretsId}:addVersion',
    'secretmanager.versions.add',
    'write',
  ),
  ...global(
    'ListSecretVersions',
    'secrets.versions.list',
    'GET',
    'secrets/{secretsId}/versions',
    'secretmanager.versions.list',
    'read',
  ),
  ...global(
    'GetSecretVersion',
    'secrets.versions.get',
    'GET',
    'secrets/{secretsId}/versions/{versionsId}',
    'secretmanager.versions.get',
    'read',
  ),
  ...global(
    'AccessSecretVersion',
    'secrets.versions.access',
    'GET',
    'secrets/{secretsId}/versions/{versionsId}:access',
    'secretmanager.versions.access',
    'access',
  ),
  ...global(
    'DestroySecretVersion',
    'secrets.versions.destroy',
    'POST',
    'secrets/{secretsId}/versions/{versionsId}:destroy',
    'secretmanager.versions.destroy',
    'write',
  ),
  ...global(
    'DisableSecretVersion',
    'secrets.versions.disable',
    'POST',
    'secrets/{secretsId}/versions/{versionsId}:disable',
    'secretmanager.versions.disable',
    'write',
  ),
  ...global(
    'EnableSecretVersion',
    'secrets.versions.enable',
    'POST',
    'secrets/{secretsId}/versions/{versionsId}:enable',
    'secretmanager.versions.enable',
    'write',
  ),
]);

/** Request quotas per minute per project, after Secret Manager's quota page. */
export interface QuotaLimits {
  accessPerMinute: number;
  readPerMinute: number;
  writePerMinute: number;
}

export const secretManagerQuotas: Readonly<QuotaLimits> = Object.freeze({
  accessPerMinute: 90_000,
  readPerMinute: 600,
  writePerMinute: 600,
});

/** One answer the double sent, for the discovery check. */
export type RecordedAnswer = GoogleRecordedAnswer<DoubleRoute>;

export interface SecretManagerServerOptions {
  store: SecretManagerStore;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Quotas to enforce; `false` turns them off. */
  quotas: QuotaLimits | false;
  /** Called with every answer (tests check them against the discovery document). */
  record?: (answer: RecordedAnswer) => void;
  host?: string;
  port?: number;
}

interface Matched {
  route: DoubleRoute;
  project: string;
  location: string;
  secret?: string;
  version?: string;
}

const pathPattern =
  /^\/v1\/projects\/([^/:]+)(?:\/locations\/([^/:]+))?\/secrets(?:\/([^/:]+)(?:\/versions(?:\/([^/:]+))?)?)?(?::([A-Za-z]+))?$/;

/** The route a method and path stand for, with the path's variables. */
export function matchRoute(method: string, path: string): Matched | undefined {
  const m = pathPattern.exec(path);
  if (m === null) return undefined;
  const [, project, location, secret, version, verb] = m;
  const regional = location !== undefined;
  let shape: string;
  if (secret === undefined) shape = verb === undefined ? 'secrets' : '';
  else if (version === undefined) {
    const versions = path.includes(`/secrets/${secret}/versions`);
    if (versions) shape = verb === undefined ? 'secrets/{secretsId}/versions' : '';
    else shape = verb === undefined ? 'secrets/{secretsId}' : `secrets/{secretsId}:${verb}`;
  } else
    shape =
      verb === undefined
        ? 'secrets/{secretsId}/versions/{versionsId}'
        : `secrets/{secretsId}/versions/{versionsId}:${verb}`;
  const flatPath = regional
    ? `v1/projects/{projectsId}/locations/{locationsId}/${shape}`
    : `v1/projects/{projectsId}/${shape}`;
  const route = doubleRoutes.find((r) => r.flatPath === flatPath && r.httpMethod === method);
  if (route === undefined) return undefined;
  return {
    route,
    project: decodeURIComponent(project!),
    location: location === undefined ? 'global' : decodeURIComponent(location),
    ...(secret === undefined ? {} : { secret: decodeURIComponent(secret) }),
    ...(version === undefined ? {} : { version: decodeURIComponent(version) }),
  };
}

/**
 * An HTTP server speaking Secret Manager's REST v1 (JSON over HTTP/1.1) with bearer tokens, and
 * the STS token exchange (`POST /v1/token`) that external-account credentials use to get them:
 * the GCP kit's Google REST server with Secret Manager's routes.
 */
export function startSecretManagerServer(options: SecretManagerServerOptions): Promise<RunningServer> {
  const { store, quotas } = options;
  return startGoogleRestServer({
    service: 'secretmanager.googleapis.com',
    project: store,
    principals: options.principals,
    faults: options.faults,
    quotas:
      quotas === false
        ? false
        : { access: quotas.accessPerMinute, read: quotas.readPerMinute, write: quotas.writePerMinute },
    ...(options.record === undefined ? {} : { record: options.record }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    match: matchRoute,
    denied: (matched, why) =>
      why === 'project'
        ? `Permission denied on resource project ${matched.project}.`
        : `Permission '${matched.route.permission}' denied for resource (or it may not exist).`,
    serve: (matched, { input, query: q, intEnums }) => {
      const { route, location } = matched;
      const as = { intEnums };
      const secret = matched.secret ?? '';
      const version = matched.version ?? '';
      switch (route.rpc) {
        case 'ListSecrets':
          return store.listSecrets(location, q);
        case 'CreateSecret':
          return store.createSecret(location, q.get('secretId') ?? undefined, input);
        case 'GetSecret':
          return store.getSecret(location, secret);
        case 'UpdateSecret':
          return store.updateSecret(location, secret, q.get('updateMask') ?? undefined, input);
        case 'DeleteSecret':
          return store.deleteSecret(location, secret, q.get('etag') ?? undefined);
        case 'AddSecretVersion':
          return store.addVersion(location, secret, input, as);
        case 'ListSecretVersions':
          return store.listVersions(location, secret, q, as);
        case 'GetSecretVersion':
          return store.getVersion(location, secret, version, as);
        case 'AccessSecretVersion':
          return store.accessVersion(location, secret, version);
        case 'DestroySecretVersion':
          return store.changeVersion(location, secret, version, 'DESTROYED', input, as);
        case 'DisableSecretVersion':
          return store.changeVersion(location, secret, version, 'DISABLED', input, as);
        case 'EnableSecretVersion':
          return store.changeVersion(location, secret, version, 'ENABLED', input, as);
        default:
          throw new GoogleApiError('UNIMPLEMENTED', 'Method not implemented.');
      }
    },
  });
}
