import type { AuditLog } from '../audit/audit-log.js';
import { CofferError } from '../errors/coffer-error.js';
import type { EventWriter } from '../events/event-outbox.js';
import { noEvents } from '../events/event-outbox.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import { type Clock, systemClock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { Actor, ResolvedActor } from './actor.js';
import { type ActorResolver, resolveActorUntil } from './actor-resolver.js';
import { createGroupService, type GroupService } from './group-service.js';
import { bootstrapIdentity } from './identity-bootstrap.js';
import { IdentityCache } from './identity-cache.js';
import type { IdentityCaches, IdentityContext, SessionPolicy } from './identity-context.js';
import { withIdentityEvents } from './identity-events.js';
import type { BootstrapOptions, BootstrapResult } from './identity-types.js';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.js';
import { createSessionService, type SessionService } from './session-service.js';
import { createSsoService, type SsoService } from './sso-service.js';
import { type PasswordLoginPolicy, passwordLoginPolicies } from './sso-types.js';
import { createTokenService, type TokenService } from './token-service.js';
import { createUserService, type UserService } from './user-service.js';

/** Session lifetimes unless configured: 12 hours absolute, 30 minutes idle, 30 days at most. */
export const defaultSessionPolicy: SessionPolicy = Object.freeze({
  ttlSeconds: 12 * 3600,
  maxTtlSeconds: 30 * 24 * 3600,
  idleTimeoutSeconds: 30 * 60,
});

/**
 * @example
 * const identity = createIdentityService({ database, audit: auditLog, clock: systemClock, logger });
 */
export interface IdentityServiceOptions {
  database: CofferDatabase;
  /** Where identity changes, logins and failed logins are recorded. */
  audit: Pick<AuditLog, 'append' | 'appendStandalone'>;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to a silent logger. Nothing secret is ever logged. */
  logger?: Logger;
  /** Defaults to argon2id with OWASP's parameters. */
  passwordHasher?: PasswordHasher;
  sessions?: Partial<SessionPolicy>;
  /**
   * Where identity changes are announced to the other servers (their caches drop what they
   * know); without it, changes are only seen by this process.
   */
  events?: EventWriter;
  /** How long who a token or user is may be served from memory; 0 (the default here) reads every time. */
  cacheSeconds?: number;
  /**
   * Who may log in with a password (default `all`): `admins` or `none` when people sign in with
   * single sign-on (docs/sso.md). API tokens are not affected.
   */
  passwordLogin?: PasswordLoginPolicy;
}

/**
 * Users, service accounts, groups, API tokens and sessions, and resolving an Actor into who
 * it is right now. Every operation that acts for someone takes the Actor first and resolves
 * it on every call, so disabling a user, revoking a token or removing a member takes effect
 * on the next call.
 *
 * @example
 * const identity = createIdentityService({ database, audit: auditLog });
 * const first = await identity.bootstrap();
 * const { actor } = await identity.login('admin', password);
 * await identity.createUser(actor, { username: 'ada', password: 'a long passphrase' });
 */
export interface IdentityService
  extends ActorResolver,
    UserService,
    GroupService,
    TokenService,
    SessionService,
    SsoService {
  /**
   * Creates the builtin `system` group and the first admin (`admin`) on an empty database,
   * with a generated password unless one is given. Returns the password only on the run
   * that created the admin; safe to call on every start, also from several processes.
   *
   * @example
   * const result = await identity.bootstrap();
   * if (result.created) console.log(`Log in as ${result.username} with ${result.password}`);
   */
  bootstrap(options?: BootstrapOptions): Promise<BootstrapResult>;
  /** Forgets every cached identity lookup (an identity event from another server arrived). */
  dropCaches(): void;
}

/**
 * Creates the identity service.
 *
 * @example
 * const auditLog = createAuditLog({ database, clock });
 * const identity = createIdentityService({ database, clock, audit: auditLog, logger });
 */
export function createIdentityService(options: IdentityServiceOptions): IdentityService {
  const sessions = sessionPolicy(options.sessions);
  const ttlMs = (options.cacheSeconds ?? 0) * 1000;
  const caches: IdentityCaches = {
    actors: new IdentityCache({ ttlMs, maxEntries: 10_000 }),
    tokens: new IdentityCache({ ttlMs, maxEntries: 10_000 }),
  };
  const dropCaches = () => {
    caches.actors.clear();
    caches.tokens.clear();
  };
  const context: IdentityContext = {
    database: options.database,
    clock: options.clock ?? systemClock,
    audit: withIdentityEvents(options.audit, options.events ?? noEvents, dropCaches),
    caches,
    logger: options.logger ?? silentLogger(),
    hasher: options.passwordHasher ?? createPasswordHasher(),
    sessions,
    passwordLogin: passwordLoginOf(options.passwordLogin),
  };
  const users = createUserService(context);
  const tokens = createTokenService(context);
  return {
    ...users,
    ...createGroupService(context),
    ...tokens,
    ...createSessionService(context),
    ...createSsoService(context, { createToken: tokens.createToken, getUser: users.getUser }),
    resolveActor: (actor) => resolveCached(context, actor),
    bootstrap: (bootstrapOptions) => bootstrapIdentity(context, bootstrapOptions),
    dropCaches,
  };
}

/**
 * A cached resolution with this request's source and address. Built as a literal: a rest
 * pattern dropping the cached `address` (~1 µs), or a spread that then adds one (~0.8 µs),
 * takes V8's slow path, on every request (docs/performance.md, "Object rest").
 */
function withRequest(cached: ResolvedActor, actor: Actor): ResolvedActor {
  const resolved: ResolvedActor = {
    type: cached.type,
    id: cached.id,
    name: cached.name,
    role: cached.role,
    groupIds: cached.groupIds,
    scope: cached.scope,
    source: actor.source ?? 'library',
  };
  if (cached.tokenId !== undefined) resolved.tokenId = cached.tokenId;
  if (actor.address !== undefined) resolved.address = actor.address;
  return resolved;
}
// Every property of ResolvedActor is copied or set above: one added there must be added here.
const everyResolvedProperty: Exclude<
  keyof ResolvedActor,
  'type' | 'id' | 'name' | 'role' | 'groupIds' | 'scope' | 'source' | 'tokenId' | 'address'
> extends never
  ? true
  : never = true;
void everyResolvedProperty;

/** Resolves an actor, from the cache when it still holds who this principal is. */
async function resolveCached(context: IdentityContext, actor: Actor): Promise<ResolvedActor> {
  const { actors } = context.caches;
  const now = context.clock();
  const key = `${actor.principal.type}:${actor.principal.id}`;
  if (actors.enabled) {
    const hit = actors.get(key, now.getTime());
    if (hit !== undefined) return withRequest(hit, actor);
  }
  const generation = actors.generation;
  const { resolved, validUntil } = await resolveActorUntil(context.database.db, actor, now.toISOString());
  // A hit takes its source and address from its own request (withRequest), not from this one.
  actors.set(
    key,
    resolved,
    now.getTime(),
    generation,
    validUntil === null ? undefined : Date.parse(validUntil),
  );
  return resolved;
}

function passwordLoginOf(policy: PasswordLoginPolicy = 'all'): PasswordLoginPolicy {
  if (!passwordLoginPolicies.includes(policy)) {
    throw new CofferError('invalid_config', 'passwordLogin: must be all, admins or none', {
      details: { issues: [{ path: 'passwordLogin', message: 'must be all, admins or none' }] },
    });
  }
  return policy;
}

function sessionPolicy(overrides: Partial<SessionPolicy> = {}): SessionPolicy {
  const policy = { ...defaultSessionPolicy, ...overrides };
  const issues = Object.entries(policy)
    .filter(([, seconds]) => !Number.isInteger(seconds) || seconds < 60)
    .map(([name]) => ({
      path: `sessions.${name}`,
      message: 'must be a whole number of seconds, at least 60',
    }));
  if (policy.ttlSeconds > policy.maxTtlSeconds) {
    issues.push({ path: 'sessions.ttlSeconds', message: 'must not exceed sessions.maxTtlSeconds' });
  }
  if (issues.length > 0) {
    throw new CofferError('invalid_config', issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
      details: { issues },
    });
  }
  return Object.freeze(policy);
}
