import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Coffer, type CofferConfigInput, createCoffer, createLogger, type Logger } from '@coffer/core';
import fastifyStatic from '@fastify/static';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { ServerSettings } from './config/server-config.js';
import { HttpProblem, problemContentType, problemOf } from './http/problem.js';
import { requestLoggerFactory } from './http/request-logger.js';
import { securityHeaders, setHeaders } from './http/security-headers.js';
import { smtpMailer } from './mail/smtp-mailer.js';
import { createHttpMetrics, type HttpMetrics, type SecretCount } from './metrics/http-metrics.js';
import { type CofferPluginOptions, cofferPlugin } from './plugin/coffer-plugin.js';
import { vaultListBridge } from './vault-api/list-method-bridge.js';
import { vaultApiPlugin } from './vault-api/vault-api-plugin.js';

/** Where the API is mounted in the standalone server. */
export const apiPrefix = '/api/v1';

/** Where the Vault KV v2-compatible door is mounted when `server.vaultApi.enabled` (Vault's own prefix). */
export const vaultPrefix = '/v1';

/** A standalone Coffer server: the engine, the HTTP app around it, and how to stop both. */
export interface CofferServer {
  readonly coffer: Coffer;
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:8470`). */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests finish (up to
   * `shutdownTimeoutMs`, then closes what is left), then closes the engine and its database.
   */
  close(): Promise<void>;
}

export interface CreateCofferServerOptions {
  /** Defaults to a pino logger at the configured level on stdout, with Coffer's redaction. */
  logger?: Logger;
  /** Passed to the plugin: the host's own authentication, custom connection testers, ... */
  plugin?: Omit<CofferPluginOptions, 'coffer'>;
  env?: Readonly<Record<string, string | undefined>>;
  /** Called as each request arrives (the standalone server's idle-memory watch counts them). */
  onRequest?: () => void;
}

/**
 * Opens the engine and builds the standalone server: security headers, `/healthz`,
 * `/readyz`, `/metrics`, the API under `/api/v1` (with its OpenAPI document and docs page),
 * and the web UI at `/` when it is built.
 *
 * @example
 * const server = await createCofferServer({ core: { dataDir: './data' }, server: settings });
 * console.log(`listening on ${await server.listen()}`);
 * process.on('SIGTERM', () => server.close());
 */
export async function createCofferServer(
  config: { core: CofferConfigInput; server: ServerSettings },
  options: CreateCofferServerOptions = {},
): Promise<CofferServer> {
  const settings = config.server;
  const logger = options.logger ?? createLogger({ level: settings.logLevel });
  const coffer = await createCoffer(config.core, {
    logger,
    sessions: settings.sessions,
    ...(settings.sso === undefined ? {} : { passwordLogin: settings.sso.passwordLogin }),
    ...(options.env === undefined ? {} : { env: options.env }),
    // Expiry and rotation reminders go out through the SMTP secret the system group may use.
    mailer: smtpMailer(),
  });
  try {
    const app = buildApp(coffer, settings, logger, options.plugin ?? {});
    const { onRequest } = options;
    if (onRequest !== undefined) {
      app.addHook('onRequest', (_request, _reply, done) => {
        onRequest();
        done();
      });
    }
    await app.ready();
    return serverOf(coffer, app, settings, logger);
  } catch (err) {
    await coffer.close();
    throw err;
  }
}

function buildApp(
  coffer: Coffer,
  settings: ServerSettings,
  logger: Logger,
  pluginOptions: Omit<CofferPluginOptions, 'coffer'>,
): FastifyInstance {
  const tls =
    settings.tls === undefined
      ? undefined
      : { cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key) };
  const app = Fastify({
    loggerInstance: logger,
    ...(tls === undefined ? {} : { https: tls }),
    bodyLimit: settings.bodyLimit,
    trustProxy: settings.trustProxy,
    // Request lines are logged by our own hook (at debug), with the route template.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log becomes a pino child only when a request writes a line its level lets through.
    childLoggerFactory: requestLoggerFactory,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: (err, request, reply) => sendProblem(err, request, reply),
    // Vault clients send LIST, a method Node's parser refuses: the bridge answers it.
    ...(settings.vaultApi.enabled
      ? { clientErrorHandler: vaultListBridge({ prefix: `${vaultPrefix}/` }) }
      : {}),
  }) as unknown as FastifyInstance;

  const metrics = settings.metrics ? createHttpMetrics(metricSources(coffer)) : undefined;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onClose', async () => {
    metrics?.close();
  });
  // While shutting down, answers close their connection, so keep-alive clients let go.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'not_found' : (request.routeOptions.url ?? 'unknown');
    metrics?.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    const line = {
      method: request.method,
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (reply.statusCode >= 500) request.log.warn(line, 'request failed');
    else request.log.debug(line, 'request');
    done();
  });

  // Helmet's headers on every answer, worked out once at start: @fastify/helmet built a new
  // helmet middleware (parsing its CSP directives) per request, and even one shared middleware
  // runs a dozen functions per request to write the same headers every time.
  const headers = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: tls === undefined ? false : { maxAge: 15552000, includeSubDomains: false },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    setHeaders(reply.raw, headers);
    done();
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      await coffer.database.db.selectFrom('users').select('id').limit(1).execute();
      checks.database = 'ok';
    } catch {
      checks.database = 'unreachable';
    }
    // A KMS key source must answer too: without it nothing can be sealed or opened.
    const keyring = await coffer.keyring.ready();
    checks.keyring = keyring.ok ? 'ok' : keyring.reason;
    if (closing) checks.server = 'shutting down';
    const ready = checks.database === 'ok' && checks.keyring === 'ok' && !closing;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
  if (metrics !== undefined) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.render()),
    );
  }

  void app.register(cofferPlugin, {
    ...pluginOptions,
    coffer,
    prefix: apiPrefix,
    bodyLimit: settings.bodyLimit,
    docs: settings.docs,
    login: { ...settings.login, ...pluginOptions.login },
    connectionTests: { timeoutMs: settings.connectionTestTimeoutMs, ...pluginOptions.connectionTests },
    ...(settings.sso === undefined ? {} : { sso: settings.sso }),
  });

  if (settings.vaultApi.enabled) {
    void app.register(vaultApiPlugin, {
      coffer,
      prefix: vaultPrefix,
      mount: settings.vaultApi.mount,
      bodyLimit: settings.bodyLimit,
    });
  }

  const indexFile = webUiIndex(settings.webDir);
  if (indexFile === undefined) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect(`${apiPrefix}/docs`));
  } else {
    void app.register(fastifyStatic, { root: dirname(indexFile), prefix: '/', decorateReply: false });
  }
  app.setNotFoundHandler((request, reply) => {
    const wantsPage =
      indexFile !== undefined &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      !request.url.startsWith(`${apiPrefix}/`) &&
      (request.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.type('text/html; charset=utf-8').send(readFileSync(indexFile));
    return sendProblem(new HttpProblem(404, 'not_found', `no route ${request.method} here`), request, reply);
  });
  return app;
}

/**
 * The web UI hook: when the built UI exists (`webDir`, or `packages/web/dist` beside this
 * package), it is served at `/`, and page requests for client-side routes get its
 * `index.html`; otherwise `/` redirects to the API docs.
 */
function webUiIndex(webDir: string | undefined): string | undefined {
  const root = resolve(webDir ?? fileURLToPath(new URL('../../web/dist/', import.meta.url)));
  const indexFile = join(root, 'index.html');
  return existsSync(indexFile) ? indexFile : undefined;
}

function sendProblem(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem, log } = problemOf(err, { conditional: false });
  if (log) request.log.error({ err }, 'request failed');
  return reply.code(problem.status).type(problemContentType).send(JSON.stringify(problem));
}

function metricSources(coffer: Coffer) {
  const checkpointStats = coffer.database.checkpointStats;
  return {
    activeBackend: coffer.backends.active.name,
    onMigrationProgress: (listener) => coffer.migration.onProgress(listener),
    dueCounts: () => coffer.reminders.counts(),
    ...(checkpointStats === undefined
      ? {}
      : {
          sqliteCheckpoints: () => {
            const stats = checkpointStats();
            return {
              checkpoints: stats.checkpoints,
              restarts: stats.restarts,
              logPages: stats.last?.log ?? 0,
              failed: stats.failed !== undefined,
            };
          },
        }),
    async secretCounts(): Promise<SecretCount[]> {
      const rows = await coffer.database.db
        .selectFrom('secrets')
        .select((eb) => [
          'backend',
          eb('deleted_at', 'is', null).as('live'),
          eb.fn.countAll<number>().as('count'),
        ])
        .groupBy(['backend', 'live'])
        .execute();
      return rows.map((r) => ({
        backend: r.backend,
        state: Number(r.live) === 1 || r.live === true ? 'live' : 'deleted',
        count: Number(r.count),
      }));
    },
  } satisfies Parameters<typeof createHttpMetrics>[0];
}

function serverOf(
  coffer: Coffer,
  app: FastifyInstance,
  settings: ServerSettings,
  logger: Logger,
): CofferServer {
  let closing: Promise<void> | undefined;
  return {
    coffer,
    app,
    logger,
    async listen() {
      await app.listen({ host: settings.host, port: settings.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : settings.port;
      const scheme = settings.tls === undefined ? 'http' : 'https';
      const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
      return `${scheme}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
    },
    close() {
      closing ??= (async () => {
        const timer = setTimeout(() => {
          logger.warn('requests still running at the shutdown limit; closing their connections');
          app.server.closeAllConnections?.();
        }, settings.shutdownTimeoutMs);
        // Connections that finish their request become idle after close() began; drop them too.
        const sweep = setInterval(() => app.server.closeIdleConnections?.(), 100);
        timer.unref();
        sweep.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(timer);
          clearInterval(sweep);
          await coffer.close();
        }
      })();
      return closing;
    },
  };
}

export type { HttpMetrics };
