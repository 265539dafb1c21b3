import {
  doublePrincipal,
  doubleProjectNumber,
  ExternalAccountFiles,
  FaultPlan,
} from '@coffer/gcp-kit/double';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import {
  type QuotaLimits,
  type RecordedAnswer,
  secretManagerQuotas,
  startSecretManagerServer,
} from './sm-server.js';
import { SecretManagerStore } from './sm-store.js';

export { type FaultAction, FaultPlan, GoogleApiError, httpStatusOf } from '@coffer/gcp-kit/double';
export {
  type DoubleRoute,
  doubleRoutes,
  matchRoute,
  type QuotaLimits,
  type RecordedAnswer,
  secretManagerQuotas,
} from './sm-server.js';
export { SecretManagerStore, secretManagerLimits } from './sm-store.js';

/** The permissions of `roles/secretmanager.viewer` plus `secretAccessor`: read, never write. */
export const readOnlyPermissions: ReadonlySet<string> = new Set([
  'secretmanager.secrets.get',
  'secretmanager.secrets.list',
  'secretmanager.versions.get',
  'secretmanager.versions.list',
  'secretmanager.versions.access',
]);

/** Fault injection and state of a running double. */
export interface SecretManagerFaults {
  /** The next `count` requests (of `rpc`, e.g. `AddSecretVersion`, or of any) meet `action`. */
  inject: FaultPlan['inject'];
  clear(): void;
  /** Requests that reached the double, of one RPC or in all (refused ones too). */
  requestCount(rpc?: string): number;
  resetCounts(): void;
  /** Deletes a whole secret (by its GCP secret id) behind the client's back. */
  removeSecret(secretId: string): boolean;
  /** Destroys the version an alias (e.g. `coffer-v1`) points at, behind the client's back. */
  destroyVersion(secretId: string, alias: string): boolean;
  /** Replaces a secret's labels behind the client's back. */
  setLabels(secretId: string, labels: Record<string, string>): boolean;
  /** GCP secret ids the double holds. */
  secretIds(): string[];
  /** Versions not destroyed, over all secrets. */
  liveVersionCount(): number;
  /** Credential configuration files (external_account) for other principals. */
  credentialFiles: { readOnly: string; unknownIdentity: string };
  /** Every answer sent so far (tests check them against the discovery document). */
  answers(): readonly RecordedAnswer[];
}

/** What every store double of Coffer hands its tests and the benchmark. */
export interface StoreDoubleHandle {
  url: string;
  /** Backend settings (without `type`) that point an instance at this double. */
  settings: Record<string, unknown>;
  /** Environment the vendor's credential chain (ADC) needs to reach the double; the caller sets it. */
  env: Record<string, string>;
  /** One write through the vendor SDK alone, nothing of Coffer around it (the benchmark's baseline). */
  rawPut(name: string, value: string): Promise<void>;
  faults: SecretManagerFaults;
  close(): Promise<void>;
}

export interface StoreDoubleOptions {
  /** Enforce Secret Manager's per-minute request quotas (default true); or give other limits. */
  throttle?: boolean | Partial<QuotaLimits>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  projectId?: string;
  /** Keep every answer for {@link SecretManagerFaults.answers} (default false). */
  recordAnswers?: boolean;
}

/**
 * Starts a local Google Cloud Secret Manager on 127.0.0.1: the REST v1 API with bearer tokens,
 * the STS token exchange of external-account (workload identity federation) credentials, the
 * service's limits and per-minute quotas. `env` points Application Default Credentials at it
 * through GOOGLE_APPLICATION_CREDENTIALS, as a real deployment would point them at a pool.
 *
 * @example
 * const double = await startStoreDouble();
 * Object.assign(process.env, double.env);
 * const config = { type: 'gcp-secret-manager', ...double.settings };
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const projectId = options.projectId ?? 'coffer-double';
  const store = new SecretManagerStore(projectId, doubleProjectNumber);
  const plan = new FaultPlan();
  const main = doublePrincipal('main');
  const readOnly = doublePrincipal('reader', readOnlyPermissions);
  const answers: RecordedAnswer[] = [];
  const throttle = options.throttle ?? true;
  const running = await startSecretManagerServer({
    store,
    principals: [main, readOnly],
    faults: plan,
    quotas: throttle === false ? false : { ...secretManagerQuotas, ...(throttle === true ? {} : throttle) },
    ...(options.recordAnswers === true ? { record: (a: RecordedAnswer) => answers.push(a) } : {}),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const files = new ExternalAccountFiles('coffer-gcp-double-', `${running.url}/v1/token`);
  const mainFile = files.write('main', main.subjectToken);
  const readOnlyFile = files.write('reader', readOnly.subjectToken);
  const unknownFile = files.writeUnknown();
  const url = new URL(running.url);
  const raw = new SecretManagerServiceClient({
    fallback: 'rest',
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    keyFilename: mainFile,
    projectId,
  });
  const parent = `projects/${projectId}`;
  return {
    url: running.url,
    settings: { projectId, endpoint: running.url },
    env: { GOOGLE_APPLICATION_CREDENTIALS: mainFile },
    async rawPut(name, value) {
      const data = Buffer.from(value, 'utf8');
      try {
        await raw.addSecretVersion({ parent: `${parent}/secrets/${name}`, payload: { data } });
      } catch (err) {
        if (![5, 404].includes((err as { code?: unknown }).code as number)) throw err; // NOT_FOUND: gRPC 5, REST 404
        await raw.createSecret({ parent, secretId: name, secret: { replication: { automatic: {} } } });
        await raw.addSecretVersion({ parent: `${parent}/secrets/${name}`, payload: { data } });
      }
    },
    faults: {
      inject: (action, opts) => plan.inject(action, opts),
      clear: () => plan.clear(),
      requestCount: (rpc) => plan.requestCount(rpc),
      resetCounts: () => plan.resetCounts(),
      removeSecret: (id) => store.removeSecret(id),
      destroyVersion: (id, alias) => store.destroyBehindBack(id, alias),
      setLabels: (id, labels) => store.setLabels(id, labels),
      secretIds: () => store.secretIds(),
      liveVersionCount: () => store.liveVersionCount(),
      credentialFiles: { readOnly: readOnlyFile, unknownIdentity: unknownFile },
      answers: () => answers,
    },
    async close() {
      await raw.close();
      await running.close();
      files.remove();
    },
  };
}
