import { type RetryOptions, retryPolicyOf } from './http/retry-policy.js';
import {
  type CallOptions,
  type OperationName,
  type RequestInput,
  type ResponseOf,
  Transport,
} from './http/transport.js';
import { resolveTemplates } from './references/template-resolver.js';
import { type AuditApi, auditApi } from './resources/audit-api.js';
import { type AuthApi, authApi } from './resources/auth-api.js';
import { type BackendsApi, backendsApi } from './resources/backends-api.js';
import { type GroupsApi, groupsApi } from './resources/groups-api.js';
import { type KeyringApi, keyringApi } from './resources/keyring-api.js';
import { type KindsApi, kindsApi } from './resources/kinds-api.js';
import { type MigrationApi, migrationApi } from './resources/migration-api.js';
import { type RemindersApi, remindersApi } from './resources/reminders-api.js';
import { type SecretsApi, secretsApi } from './resources/secrets-api.js';
import { type ShareLinksApi, shareLinksApi } from './resources/share-links-api.js';
import { type SharesApi, sharesApi } from './resources/shares-api.js';
import { type TokensApi, tokensApi } from './resources/tokens-api.js';
import { type UsersApi, usersApi } from './resources/users-api.js';
import { type EventMessage, type EventsOptions, streamEvents } from './watch/event-stream.js';
import { type SecretChange, type WatchOptions, watchSecrets } from './watch/secret-watcher.js';

/** How {@link createClient} reaches and authenticates to a Coffer server. */
export interface ClientOptions {
  /**
   * The server, e.g. `http://127.0.0.1:8470` (`/api/v1` is added unless it ends with it).
   * In a browser, `''` or nothing means the page's own origin; elsewhere it is required.
   */
  baseUrl?: string;
  /** An API token (`cfr_...`), sent as `Authorization: Bearer`. Omit it for cookie sessions. */
  token?: string;
  /** The fetch to use (default: the global one); for tests, proxies, or custom agents. */
  fetch?: typeof fetch;
  /** Retries of idempotent requests on 429, 503 and network errors (default: 3 attempts). */
  retry?: RetryOptions;
  /**
   * Sent as `X-Coffer-Client`, so the audit log records where requests came from (`cli`
   * is recorded as the CLI; anything else as the API).
   */
  clientName?: 'cli' | 'web' | (string & {});
  /** Gives up on an attempt after this long (a network error, retried like one). Default: none. */
  timeoutMs?: number;
  /** The CSRF cookie's name if the server renamed it (default `coffer_csrf`). */
  csrfCookieName?: string;
}

/** A typed client of the whole Coffer REST API. Create one with {@link createClient}. */
export interface CofferClient {
  readonly auth: AuthApi;
  readonly secrets: SecretsApi;
  readonly shares: SharesApi;
  /** One-time share links: make, list and revoke them; preview and open one as a recipient. */
  readonly shareLinks: ShareLinksApi;
  readonly kinds: KindsApi;
  readonly users: UsersApi;
  readonly groups: GroupsApi;
  readonly tokens: TokensApi;
  readonly audit: AuditApi;
  readonly backends: BackendsApi;
  readonly migration: MigrationApi;
  readonly keyring: KeyringApi;
  /** What expires or is due for rotation, and mailing the owners now (admins). */
  readonly reminders: RemindersApi;
  /** The API's base URL, e.g. `http://127.0.0.1:8470/api/v1`. */
  readonly apiUrl: string;
  /**
   * Replaces every `{{ secret-name.field }}` in `template` with the field's revealed value
   * (each reveal is audited; each secret is read once). `\{{` stands for a literal `{{`. A
   * template without references makes no request. If any reference fails, nothing is returned:
   * the error names every failing reference (never a value), with the code of the first
   * (`not_found`, `forbidden`, `field_not_found`, `invalid_reference`, ...).
   *
   * @example
   * const url = await client.resolve('postgres://{{ db.username }}:{{ db.password }}@{{ db.host }}/app');
   */
  resolve(template: string, options?: CallOptions): Promise<string>;
  /**
   * {@link resolve} for many templates at once (an environment, a config file), reading each
   * secret once across all of them.
   *
   * @example
   * const env = await client.resolveAll({ SMTP_HOST: '{{ mail.host }}', SMTP_PASSWORD: '{{ mail.password }}' });
   */
  resolveAll<K extends string>(
    templates: Record<K, string>,
    options?: CallOptions,
  ): Promise<Record<K, string>>;
  /**
   * The server's change events (`GET /events`) as they happen, from every server sharing its
   * database: changes of the secrets the caller may see (values never), reconnecting after a
   * dropped connection without missing any. Stop it with `options.signal` or `break`.
   *
   * @example
   * for await (const e of client.events({ signal })) if (e.access === 'read') console.log(e.type, e.name, e.version);
   */
  events(options?: EventsOptions): AsyncGenerator<EventMessage, void, undefined>;
  /**
   * Yields whenever a watched secret gets a new version (or goes to or comes back from the
   * trash): from the server's event stream, or by polling a server without one. Stop it with
   * `options.signal` or by breaking out of the loop.
   *
   * @example
   * for await (const { ref, version } of client.watch(['mail'], { signal })) reload(ref, version);
   */
  watch(refs: readonly string[], options?: WatchOptions): AsyncGenerator<SecretChange, void, undefined>;
  /**
   * Any operation by its name in docs/api.md, typed from the OpenAPI document: an escape
   * hatch for what the resource methods do not cover.
   *
   * @example
   * const page = await client.request('GET /secrets', { query: { namePrefix: 'db-' } });
   */
  request<N extends OperationName>(name: N, input: RequestInput<N>): Promise<ResponseOf<N>>;
}

/**
 * A client of a Coffer server. With `token` it authenticates every request with it (the CLI,
 * bots); without, `client.auth.login` starts a cookie session (the web UI, or a script with a
 * password) and the client adds the CSRF token on writes.
 *
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8470', token: process.env.COFFER_TOKEN });
 * const { values } = await client.secrets.values('mail', { reveal: true });
 */
export function createClient(options: ClientOptions = {}): CofferClient {
  const baseUrl = options.baseUrl ?? '';
  const inBrowser = typeof (globalThis as { location?: unknown }).location !== 'undefined';
  if (!/^https?:\/\/[^/]/i.test(baseUrl) && !(inBrowser && (baseUrl === '' || baseUrl.startsWith('/')))) {
    throw new TypeError(
      inBrowser || baseUrl !== ''
        ? 'createClient: baseUrl must be an http(s) URL, e.g. "http://127.0.0.1:8470" (or a path on the page\'s own origin in a browser)'
        : 'createClient: baseUrl is required outside a browser (e.g. "http://127.0.0.1:8470")',
    );
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new TypeError('createClient: the token is empty or holds characters a token never has');
  }
  const retry = retryPolicyOf(options.retry);
  const transport = new Transport({
    baseUrl,
    token: options.token,
    fetch: options.fetch,
    retry,
    clientName: options.clientName,
    timeoutMs: options.timeoutMs,
    csrfCookieName: options.csrfCookieName ?? 'coffer_csrf',
  });
  const secrets = secretsApi(transport);
  const reveal = (ref: string, call: CallOptions) => secrets.values(ref, { ...call, reveal: true });
  return Object.freeze({
    auth: authApi(transport),
    secrets,
    shares: sharesApi(transport),
    shareLinks: shareLinksApi(transport),
    kinds: kindsApi(transport),
    users: usersApi(transport),
    groups: groupsApi(transport),
    tokens: tokensApi(transport),
    audit: auditApi(transport),
    backends: backendsApi(transport),
    migration: migrationApi(transport),
    keyring: keyringApi(transport),
    reminders: remindersApi(transport),
    apiUrl: transport.apiUrl,
    resolve: async (template: string, call?: CallOptions) =>
      (await resolveTemplates({ template }, reveal, call)).template,
    resolveAll: <K extends string>(templates: Record<K, string>, call?: CallOptions) =>
      resolveTemplates(templates, reveal, call),
    events: (eventsOptions?: EventsOptions) => streamEvents(transport, retry, eventsOptions),
    watch: (refs: readonly string[], watchOptions?: WatchOptions) =>
      watchSecrets(transport, retry, refs, watchOptions),
    request: <N extends OperationName>(name: N, input: RequestInput<N>) => transport.call(name, input),
  });
}
