import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { AuditDetails, AuditEntry } from '../audit/audit-types.js';
import { CofferError, type CofferErrorDetails } from '../errors/coffer-error.js';
import type { ErrorCode } from '../errors/error-catalog.js';
import { isoNow } from '../shared/clock.js';
import { hasControlCharacters } from '../shared/control-characters.js';
import type { UserRow } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import { type Actor, asUser } from './actor.js';
import { credentialHash } from './credential-codec.js';
import { addMs, type IdentityContext } from './identity-context.js';
import { userOf } from './identity-rows.js';
import { namePattern } from './identity-schemas.js';
import type { AuthContext } from './identity-types.js';
import type {
  RedeemedSsoHandoff,
  SsoClaims,
  SsoHandoffRedeemInput,
  SsoLoginResult,
  SsoPolicy,
  SsoRefusal,
  SsoRequest,
  SsoRequestInput,
} from './sso-types.js';
import type { TokenService } from './token-service.js';
import type { UserService } from './user-service.js';

/**
 * Single sign-on (OpenID Connect): the server validates the provider's ID token, and core turns
 * the verified claims into a Coffer user, linked by the provider's issuer and subject (never by
 * email), with group memberships kept in step with the provider's groups. Core also keeps the
 * sign-ins in flight and the one-time codes that hand a sign-in to `coffer login --sso`.
 *
 * @example
 * const { actor, created } = await identity.loginWithSso(claims, policy, { source: 'web', address });
 */
export interface SsoService {
  /**
   * Logs in the user the provider's account is linked to. The first sign-in links an existing
   * user of the same username (only one prepared without a password, unless
   * `policy.linkExistingUsers`) or creates a member (`policy.autoCreateUsers`). Disabled users are
   * refused. With `claims.groups`, memberships of the managed groups follow the provider's
   * groups. Everything is audited in the same transaction: `auth.login` (`details.method: "sso"`),
   * `user.create`, `user.update`, `group.member_add`, `group.member_remove`; a refusal records
   * `auth.login_failed` and throws with `details.reason` ({@link SsoRefusal}).
   *
   * @example
   * const { user } = await identity.loginWithSso({ issuer, subject: 'u-1', username: 'ada', groups: ['eng'] }, policy);
   */
  loginWithSso(claims: SsoClaims, policy: SsoPolicy, context?: AuthContext): Promise<SsoLoginResult>;
  /**
   * Remembers a sign-in being started (hashes of its `state` and `binding` only), for
   * `ttlSeconds` (default 600). Expired ones are swept on the way.
   *
   * @example
   * await identity.saveSsoRequest({ state, binding, returnTo: '/secrets' });
   */
  saveSsoRequest(input: SsoRequestInput): Promise<void>;
  /**
   * Takes back a started sign-in by its `state`, once, and only with the `binding` it was
   * started with (the browser's cookie); undefined when unknown, expired, taken, or bound to
   * another browser.
   *
   * @example
   * const request = await identity.takeSsoRequest(query.state, cookie);
   */
  takeSsoRequest(state: string, binding: string): Promise<SsoRequest | undefined>;
  /**
   * A one-time code (valid for `ttlSeconds`, default 60) that hands a finished sign-in to the CLI
   * that asked with `challenge` (its PKCE S256 challenge).
   *
   * @example
   * const code = await identity.createSsoHandoff(user.id, request.cli.challenge);
   */
  createSsoHandoff(userId: string, challenge: string, ttlSeconds?: number): Promise<string>;
  /**
   * Redeems a handoff code with the CLI's PKCE verifier for a new API token of the user (audited
   * as `token.create`). A code works once: a wrong verifier uses it up. Unknown, used, expired
   * and mismatched codes, and disabled users, get `unauthenticated`.
   *
   * @example
   * const { token, info, user } = await identity.redeemSsoHandoff(code, verifier, { name: 'coffer-cli@laptop', scope: 'read-write' }, { source: 'cli' });
   */
  redeemSsoHandoff(
    code: string,
    verifier: string,
    input: SsoHandoffRedeemInput,
    context?: AuthContext,
  ): Promise<RedeemedSsoHandoff>;
}

/** Longest issuer and subject stored (the columns' size). */
const maxIdentifierLength = 255;
const pkceVerifierPattern = /^[A-Za-z0-9._~-]{43,128}$/;
const pkceChallengePattern = /^[A-Za-z0-9_-]{43}$/;
const emailSchema = z.email().max(320);

/**
 * The Coffer username for a provider's username claim: lowercased, accents dropped, every run
 * of other characters than `a-z 0-9 . _ -` made one `-`, leading punctuation dropped, at most
 * 64 characters. `Ada.Lovelace` → `ada.lovelace`, `ada@example.com` → `ada-example.com`,
 * `Jürgen Groß` → `jurgen-gro` (trailing `-` dropped). Undefined when nothing usable is left.
 *
 * @example
 * ssoUsername('Ada Lovelace'); // 'ada-lovelace'
 */
export function ssoUsername(claim: string): string | undefined {
  if (typeof claim !== 'string') return undefined;
  const plain = claim
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .trim();
  const name = plain
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return namePattern.test(name) ? name : undefined;
}

/** Thrown inside the sign-in's transaction; recorded after it rolled back. */
class Refusal extends Error {
  constructor(
    readonly error: CofferError,
    readonly reason: SsoRefusal,
    readonly target: AuditEntry['target'] | undefined,
  ) {
    super(error.message);
  }
}

const refusals: Record<SsoRefusal, { code: ErrorCode; message: string }> = {
  invalid_claims: {
    code: 'validation',
    message: 'the identity provider sent no usable username, subject or issuer',
  },
  username_taken: {
    code: 'conflict',
    message:
      'a Coffer user of that username exists and is not linked to this sign-in; an admin can rename it, or allow linking (server.sso.linkExistingUsers)',
  },
  not_provisioned: {
    code: 'forbidden',
    message: 'there is no Coffer user for this sign-in, and single sign-on does not create users here',
  },
  disabled: { code: 'unauthenticated', message: 'this Coffer user is disabled' },
  password_login_off: {
    code: 'forbidden',
    message: 'password login is turned off for this account; sign in with single sign-on',
  },
};

/** The error a refusal is reported with; `details.reason` names it. */
export function ssoRefusalError(reason: SsoRefusal, details: CofferErrorDetails = {}): CofferError {
  const { code, message } = refusals[reason];
  return new CofferError(code, message, { details: { ...details, reason } });
}

/** Whether `verifier` is the PKCE (S256) verifier of `challenge`. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (typeof verifier !== 'string' || !pkceVerifierPattern.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** The internal factory behind {@link SsoService}. */
export function createSsoService(
  context: IdentityContext,
  dependencies: { createToken: TokenService['createToken']; getUser: UserService['getUser'] },
): SsoService {
  const { database, audit, logger } = context;
  const lock = <Q extends { forUpdate(): Q }>(q: Q): Q => (database.features.forUpdate ? q.forUpdate() : q);

  async function loginWithSso(
    claims: SsoClaims,
    policy: SsoPolicy,
    authContext: AuthContext = {},
  ): Promise<SsoLoginResult> {
    const source = authContext.source ?? 'library';
    const address = authContext.address;
    const where = { source, ...(address === undefined ? {} : { address }) };
    const issuer = typeof claims?.issuer === 'string' ? claims.issuer : '';
    const username = ssoUsername(claims?.username);
    const detailsOf = (extra: AuditDetails = {}): AuditDetails => ({
      method: 'sso',
      issuer: issuer.slice(0, maxIdentifierLength),
      ...(username === undefined ? {} : { username }),
      ...extra,
    });
    const system = { actor: { type: 'system', name: 'sso' }, ...where } as const;

    const attempt = async (): Promise<SsoLoginResult> => {
      if (
        username === undefined ||
        !isIdentifier(issuer) ||
        typeof claims.subject !== 'string' ||
        !isIdentifier(claims.subject)
      ) {
        throw new Refusal(ssoRefusalError('invalid_claims'), 'invalid_claims', undefined);
      }
      const subject = claims.subject;
      const displayName = displayNameOf(claims.displayName) ?? username;
      const email = emailOf(claims.email);
      const groups = claims.groups === undefined ? undefined : groupNamesOf(claims.groups);

      return inTransaction(database, async (tx) => {
        const now = isoNow(context.clock);
        let created = false;
        let linked = false;
        let row = await lock(
          tx
            .selectFrom('external_identities')
            .innerJoin('users', 'users.id', 'external_identities.user_id')
            .selectAll('users')
            .where('external_identities.issuer', '=', issuer)
            .where('external_identities.subject', '=', subject),
        ).executeTakeFirst();

        if (row === undefined) {
          const existing = await lock(
            tx.selectFrom('users').selectAll().where('username', '=', username),
          ).executeTakeFirst();
          if (existing !== undefined) {
            const target = { type: 'user', id: existing.id, name: existing.username } as const;
            const linkedAlready = await tx
              .selectFrom('external_identities')
              .select('subject')
              .where('user_id', '=', existing.id)
              .where('issuer', '=', issuer)
              .executeTakeFirst();
            // A local account with a password is someone's already: a provider that lets people
            // choose their username must not hand it over, unless the operator said so.
            const linkable =
              existing.type === 'user' &&
              linkedAlready === undefined &&
              (existing.password_hash === null || policy.linkExistingUsers);
            if (!linkable) throw new Refusal(ssoRefusalError('username_taken'), 'username_taken', target);
            row = existing;
            linked = true;
          } else {
            if (!policy.autoCreateUsers) {
              throw new Refusal(ssoRefusalError('not_provisioned'), 'not_provisioned', undefined);
            }
            row = {
              id: randomUUID(),
              username,
              display_name: displayName,
              email,
              type: 'user',
              role: 'member',
              disabled: 0,
              password_hash: null,
              created_at: now,
              updated_at: now,
              last_login_at: null,
            } satisfies UserRow;
            await tx.insertInto('users').values(row).execute();
            await audit.append(tx, {
              ...system,
              action: 'user.create',
              outcome: 'success',
              target: { type: 'user', id: row.id, name: row.username },
              details: detailsOf({ type: 'user', role: 'member', hasPassword: false }),
            });
            created = true;
          }
          await tx
            .insertInto('external_identities')
            .values({ issuer, subject, user_id: row.id, created_at: now, last_login_at: null })
            .execute();
        }
        const target = { type: 'user', id: row.id, name: row.username } as const;
        if (row.disabled !== 0) throw new Refusal(ssoRefusalError('disabled'), 'disabled', target);

        // The provider is where people keep their name and address: follow it.
        const changes: Partial<UserRow> = {};
        if (!created && claims.displayName !== undefined && displayName !== row.display_name) {
          changes.display_name = displayName;
        }
        if (!created && email !== null && email !== row.email) changes.email = email;
        if (Object.keys(changes).length > 0) {
          await tx
            .updateTable('users')
            .set({ ...changes, updated_at: now })
            .where('id', '=', row.id)
            .execute();
          await audit.append(tx, {
            ...system,
            action: 'user.update',
            outcome: 'success',
            target,
            details: detailsOf({
              changed: Object.keys(changes).map((c) => (c === 'display_name' ? 'displayName' : c)),
            }),
          });
        }

        const { added, removed } =
          groups === undefined
            ? { added: [], removed: [] }
            : await syncGroups(tx, row, groups, policy, now, (entry) =>
                audit.append(tx, { ...system, ...entry, details: detailsOf(entry.details) }),
              );

        await tx.updateTable('users').set({ last_login_at: now }).where('id', '=', row.id).execute();
        await tx
          .updateTable('external_identities')
          .set({ last_login_at: now })
          .where('issuer', '=', issuer)
          .where('subject', '=', subject)
          .execute();
        await audit.append(tx, {
          action: 'auth.login',
          outcome: 'success',
          actor: { type: 'user', id: row.id, name: row.username },
          ...where,
          target,
          details: detailsOf({ created, linked }),
        });
        const user = userOf({ ...row, ...changes, last_login_at: now }, 'self');
        return {
          user,
          actor: asUser(row.id, authContext),
          created,
          linked,
          groupsAdded: added,
          groupsRemoved: removed,
        };
      });
    };

    try {
      try {
        return await attempt();
      } catch (err) {
        // Two first sign-ins of one account at once: the second finds the first one's user.
        if (!isUniqueViolation(err)) throw err;
        return await attempt();
      }
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      await audit.appendStandalone({
        action: 'auth.login_failed',
        outcome: 'failure',
        actor: { type: 'anonymous' },
        ...where,
        ...(err.target === undefined ? {} : { target: err.target }),
        details: detailsOf({ reason: err.reason }),
      });
      logger.info({ userId: err.target?.id ?? null, reason: err.reason, source }, 'sso login refused');
      throw err.error;
    }
  }

  /**
   * Joins and leaves the managed groups to match the provider's: the targets of the mapping,
   * or, with `matchExistingGroups`, every group but the builtin ones. Other groups, and the
   * builtin `system` group, are never touched.
   */
  async function syncGroups(
    tx: Tx,
    user: UserRow,
    claimed: readonly string[],
    policy: SsoPolicy,
    now: string,
    record: (entry: Pick<AuditEntry, 'action' | 'outcome' | 'target' | 'details'>) => Promise<unknown>,
  ): Promise<{ added: string[]; removed: string[] }> {
    const mapping = new Map(
      Object.entries(policy.groupMapping).map(([from, to]) => [from, to.map((t) => t.toLowerCase())]),
    );
    const mappedTargets = new Set([...mapping.values()].flat());
    const wanted = new Set<string>();
    for (const group of claimed) {
      const targets = mapping.get(group);
      if (targets !== undefined) for (const t of targets) wanted.add(t);
      else if (policy.matchExistingGroups) wanted.add(group.toLowerCase());
    }
    const managed =
      policy.matchExistingGroups || mappedTargets.size > 0
        ? await tx
            .selectFrom('groups')
            .select(['id', 'name'])
            .where('builtin', '=', 0)
            .$if(!policy.matchExistingGroups, (q) => q.where('name', 'in', [...mappedTargets]))
            .orderBy('name')
            .execute()
        : [];
    const missing = [...mappedTargets].filter((name) => !managed.some((g) => g.name === name));
    if (missing.length > 0) {
      logger.warn(
        { groups: missing },
        'single sign-on maps to groups that do not exist or are builtin; create them (or fix server.sso.groupMapping)',
      );
    }
    const current = new Set(
      (await tx.selectFrom('group_members').select('group_id').where('user_id', '=', user.id).execute()).map(
        (m) => m.group_id,
      ),
    );
    const added: string[] = [];
    const removed: string[] = [];
    for (const group of managed) {
      const member = current.has(group.id);
      const target = { type: 'group', id: group.id, name: group.name } as const;
      const details = { userId: user.id, username: user.username };
      if (wanted.has(group.name) && !member) {
        await tx
          .insertInto('group_members')
          .values({ group_id: group.id, user_id: user.id, added_at: now })
          .execute();
        await record({ action: 'group.member_add', outcome: 'success', target, details });
        added.push(group.name);
      } else if (!wanted.has(group.name) && member) {
        await tx
          .deleteFrom('group_members')
          .where('group_id', '=', group.id)
          .where('user_id', '=', user.id)
          .execute();
        await record({ action: 'group.member_remove', outcome: 'success', target, details });
        removed.push(group.name);
      }
    }
    return { added, removed };
  }

  async function saveSsoRequest(input: SsoRequestInput): Promise<void> {
    const issues: { path: string; message: string }[] = [];
    if (typeof input.state !== 'string' || input.state.length < 16) {
      issues.push({ path: 'state', message: 'must be a random string of 16 characters or more' });
    }
    if (typeof input.binding !== 'string' || input.binding.length < 16) {
      issues.push({ path: 'binding', message: 'must be a random string of 16 characters or more' });
    }
    if (typeof input.returnTo !== 'string' || input.returnTo.length === 0 || input.returnTo.length > 2048) {
      issues.push({ path: 'returnTo', message: 'must be 1 to 2048 characters' });
    }
    if (input.cli !== undefined) {
      if (!pkceChallengePattern.test(input.cli.challenge)) {
        issues.push({
          path: 'cli.challenge',
          message: 'must be a PKCE S256 challenge (43 characters of base64url)',
        });
      }
      if (!/^[A-Za-z0-9._~-]{8,256}$/.test(input.cli.state)) {
        issues.push({ path: 'cli.state', message: 'must be 8 to 256 characters of A-Z a-z 0-9 . _ ~ -' });
      }
    }
    const ttlSeconds = input.ttlSeconds ?? 600;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 10 || ttlSeconds > 3600) {
      issues.push({ path: 'ttlSeconds', message: 'must be a whole number from 10 to 3600' });
    }
    if (issues.length > 0) throw CofferError.validation(issues);
    const now = isoNow(context.clock);
    await database.db.deleteFrom('sso_requests').where('expires_at', '<=', now).execute();
    await database.db
      .insertInto('sso_requests')
      .values({
        state_hash: credentialHash(input.state),
        binding_hash: credentialHash(input.binding),
        return_to: input.returnTo,
        cli_challenge: input.cli?.challenge ?? null,
        cli_state: input.cli?.state ?? null,
        created_at: now,
        expires_at: addMs(now, ttlSeconds * 1000),
      })
      .execute();
  }

  async function takeSsoRequest(state: string, binding: string): Promise<SsoRequest | undefined> {
    if (typeof state !== 'string' || typeof binding !== 'string' || state === '' || binding === '') {
      return undefined;
    }
    const stateHash = credentialHash(state);
    return inTransaction(database, async (tx) => {
      const row = await lock(
        tx.selectFrom('sso_requests').selectAll().where('state_hash', '=', stateHash),
      ).executeTakeFirst();
      // Another browser's cookie (or none) does not finish this sign-in, nor spoil it.
      if (row === undefined || !sameHash(row.binding_hash, credentialHash(binding))) return undefined;
      await tx.deleteFrom('sso_requests').where('state_hash', '=', stateHash).execute();
      if (row.expires_at <= isoNow(context.clock)) return undefined;
      return {
        returnTo: row.return_to,
        cli:
          row.cli_challenge === null || row.cli_state === null
            ? null
            : { challenge: row.cli_challenge, state: row.cli_state },
        createdAt: row.created_at,
      };
    });
  }

  async function createSsoHandoff(userId: string, challenge: string, ttlSeconds = 60): Promise<string> {
    if (!pkceChallengePattern.test(challenge)) {
      throw CofferError.validation([
        { path: 'challenge', message: 'must be a PKCE S256 challenge (43 characters of base64url)' },
      ]);
    }
    const code = randomBytes(32).toString('base64url');
    const now = isoNow(context.clock);
    await database.db.deleteFrom('sso_handoffs').where('expires_at', '<=', now).execute();
    await database.db
      .insertInto('sso_handoffs')
      .values({
        code_hash: credentialHash(code),
        user_id: userId,
        challenge,
        created_at: now,
        expires_at: addMs(now, ttlSeconds * 1000),
      })
      .execute();
    return code;
  }

  async function redeemSsoHandoff(
    code: string,
    verifier: string,
    input: SsoHandoffRedeemInput,
    authContext: AuthContext = {},
  ): Promise<RedeemedSsoHandoff> {
    const refused = () =>
      new CofferError(
        'unauthenticated',
        'the sign-in code is unknown, used, expired, or was not made for this client',
      );
    if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(code)) throw refused();
    const codeHash = credentialHash(code);
    const handoff = await inTransaction(database, async (tx) => {
      const row = await lock(
        tx.selectFrom('sso_handoffs').selectAll().where('code_hash', '=', codeHash),
      ).executeTakeFirst();
      if (row === undefined) return undefined;
      // Used up by any attempt, right or wrong: a code cannot be guessed at.
      await tx.deleteFrom('sso_handoffs').where('code_hash', '=', codeHash).execute();
      return row;
    });
    if (handoff === undefined) throw refused();
    const now = isoNow(context.clock);
    if (handoff.expires_at <= now || !pkceMatches(verifier, handoff.challenge)) {
      const user = await database.db
        .selectFrom('users')
        .select(['id', 'username'])
        .where('id', '=', handoff.user_id)
        .executeTakeFirst();
      await audit.appendStandalone({
        action: 'auth.login_failed',
        outcome: 'failure',
        actor: { type: 'anonymous' },
        source: authContext.source ?? 'library',
        ...(authContext.address === undefined ? {} : { address: authContext.address }),
        ...(user === undefined ? {} : { target: { type: 'user', id: user.id, name: user.username } }),
        details: {
          method: 'sso',
          reason: handoff.expires_at <= now ? 'handoff_expired' : 'handoff_verifier_mismatch',
        },
      });
      throw refused();
    }
    const actor: Actor = asUser(handoff.user_id, authContext);
    const created = await dependencies.createToken(actor, { ...input, userId: handoff.user_id });
    const user = await dependencies.getUser(actor, handoff.user_id);
    return { ...created, user };
  }

  return { loginWithSso, saveSsoRequest, takeSsoRequest, createSsoHandoff, redeemSsoHandoff };
}

function isIdentifier(value: string): boolean {
  return value.length > 0 && value.length <= maxIdentifierLength && !hasControlCharacters(value);
}

function displayNameOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().slice(0, 200);
  return trimmed === '' || hasControlCharacters(trimmed, true) ? undefined : trimmed;
}

function emailOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return emailSchema.safeParse(value).success ? value : null;
}

/** The provider's group names: strings only, each once, at most 1000. */
function groupNamesOf(groups: readonly unknown[]): string[] {
  if (!Array.isArray(groups)) return [];
  const names = new Set<string>();
  for (const g of groups) {
    if (typeof g === 'string' && g.length > 0 && g.length <= 255) names.add(g);
    if (names.size >= 1000) break;
  }
  return [...names];
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
