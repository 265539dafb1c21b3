import { randomUUID } from 'node:crypto';
import { allows, canSee, effectiveAccess } from '../access/access-policy.js';
import type { AuditEntry } from '../audit/audit-types.js';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Logger } from '../logging/logger.js';
import { type AuditWriter, authorize, secretAudit } from '../secrets/secret-access.js';
import { looksLikeId } from '../secrets/secret-names.js';
import { findSecretById, sharesOf } from '../secrets/secret-store.js';
import type { SecretValuesView } from '../secrets/secret-types.js';
import { type Clock, isoNow } from '../shared/clock.js';
import { decodeCursor, encodeCursor, type Page, type PageRequest, pageLimit } from '../shared/page.js';
import type { CofferDatabase } from '../storage/database.js';
import type { ShareLinkRow } from '../storage/schema.js';
import { inTransaction } from '../storage/transaction.js';
import {
  decodeLinkKey,
  encodeLinkKey,
  keyCheckOf,
  keyMatches,
  newKdf,
  newLinkKey,
  openCopy,
  type PassphraseCost,
  parseKdf,
  sealCopy,
  sealingKey,
} from './share-link-crypto.js';
import {
  countFailure,
  countView,
  type EndReason,
  endLink,
  expiredOpenLinks,
  findLink,
  insertLink,
  linksOfSecret,
  openLinksOfGoneSecrets,
  stateOf,
  toShareLink,
} from './share-link-store.js';
import {
  type CreatedShareLink,
  type CreateShareLinkInput,
  shareLinkLimits as limits,
  type OpenedShareLink,
  type OpenShareLinkInput,
  type ShareLink,
  type ShareLinkPreview,
  type ShareLinkViewer,
} from './share-link-types.js';

export interface ShareLinkServiceDeps {
  database: CofferDatabase;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: AuditWriter;
  /** Reveals a secret's current values for the actor (needs `read`; audited as `secret.reveal`). */
  reveal: (actor: Actor, secretId: string) => Promise<SecretValuesView>;
  clock: Clock;
  logger: Logger;
  /** scrypt's cost for new links with a passphrase; tests lower it (default {@link passphraseCost}). */
  passphraseCost?: PassphraseCost;
}

/** The audit actor of automatic ends (expiry, a deleted secret, too many wrong passphrases). */
const systemActor = { type: 'system', name: 'share-links' } as const;

/**
 * One-time share links: a holder of `read` hands a copy of a secret's values (or some fields)
 * to someone without an account, for a few views within a time to live, optionally behind a
 * passphrase. The copy is sealed under a key derived from a random 256-bit link key that only
 * the link carries (after `#`), so what Coffer stores can never open it. See docs/share-links.md.
 *
 * @example
 * const { path } = await shareLinks.create(asUser(ada), 'mail', { fields: ['password'], ttlSeconds: 3600 });
 * // later, anyone holding the link:
 * const { values } = await shareLinks.open(id, { key }, { address: '203.0.113.7' });
 */
export function createShareLinkService(deps: ShareLinkServiceDeps) {
  const { database, audit, clock } = deps;
  const db = database.db;

  function viewerEntry(
    row: ShareLinkRow,
    viewer: ShareLinkViewer,
    outcome: AuditEntry['outcome'],
    details: Record<string, string | number | boolean>,
  ): AuditEntry {
    return {
      action: 'share_link.view',
      outcome,
      actor: { type: 'anonymous' },
      source: viewer.source ?? 'api',
      ...(viewer.address === undefined ? {} : { address: viewer.address }),
      target: { type: 'secret', id: row.secret_id, name: row.secret_name },
      details: { linkId: row.id, ...details },
    };
  }

  function systemEntry(row: ShareLinkRow, reason: EndReason): AuditEntry {
    return {
      action: reason === 'expired' ? 'share_link.expire' : 'share_link.revoke',
      outcome: 'success',
      actor: systemActor,
      source: 'system',
      target: { type: 'secret', id: row.secret_id, name: row.secret_name },
      details: { linkId: row.id, reason },
    };
  }

  /** Ends a link automatically, auditing the end once (whichever process gets there first). */
  async function endAutomatically(row: ShareLinkRow, reason: EndReason): Promise<boolean> {
    return inTransaction(database, async (tx) => {
      const ended = await endLink(tx, row.id, isoNow(clock), reason);
      if (ended) await audit.append(tx, systemEntry(row, reason));
      return ended;
    });
  }

  async function linkNamed(id: string): Promise<ShareLinkRow> {
    const row = looksLikeId(id) ? await findLink(db, id.toLowerCase()) : undefined;
    if (row === undefined) throw new CofferError('not_found', 'no such share link');
    return row;
  }

  /** The error a recipient sees for a link that no longer opens: what happened, in words. */
  function closedError(row: ShareLinkRow, now: string): CofferError {
    const state = stateOf(row, now);
    const askAgain = 'ask whoever sent it for a new one';
    if (state === 'revoked') {
      const reason = row.end_reason ?? 'revoked';
      const why =
        reason === 'secret_deleted'
          ? 'the secret it shared was deleted'
          : reason === 'too_many_failures'
            ? 'it was revoked after too many wrong passphrases'
            : 'it was revoked';
      return new CofferError('share_link_revoked', `this link no longer works: ${why}; ${askAgain}`, {
        details: { reason, revokedAt: row.revoked_at },
      });
    }
    if (state === 'used') {
      const times = row.max_views === 1 ? 'once' : `${row.max_views} times`;
      return new CofferError(
        'share_link_used',
        `this link could be opened ${times} and was, so it shows nothing any more; ${askAgain}`,
        { details: { maxViews: row.max_views, lastViewedAt: row.last_viewed_at } },
      );
    }
    return new CofferError('share_link_expired', `this link expired at ${row.expires_at}; ${askAgain}`, {
      details: { expiredAt: row.expires_at },
    });
  }

  /**
   * Makes sure a link still opens: one whose secret is gone is revoked, one whose time ran out
   * has its copy destroyed (both audited once); a closed link is refused, and the attempt audited.
   */
  async function requireOpen(row: ShareLinkRow, viewer: ShareLinkViewer): Promise<void> {
    let current = row;
    if (current.ended_at === null) {
      const secret = await db
        .selectFrom('secrets')
        .select(['id', 'deleted_at'])
        .where('id', '=', current.secret_id)
        .executeTakeFirst();
      const now = isoNow(clock);
      const reason: EndReason | undefined =
        secret === undefined || secret.deleted_at !== null
          ? 'secret_deleted'
          : stateOf(current, now) === 'expired'
            ? 'expired'
            : undefined;
      if (reason !== undefined) {
        await endAutomatically(current, reason);
        current = (await findLink(db, current.id)) ?? current;
      }
    }
    const now = isoNow(clock);
    if (stateOf(current, now) === 'active') return;
    const error = closedError(current, now);
    await audit.appendStandalone(viewerEntry(current, viewer, 'denied', { reason: error.code }));
    throw error;
  }

  async function requireKey(row: ShareLinkRow, text: unknown, viewer: ShareLinkViewer): Promise<Buffer> {
    const key = decodeLinkKey(text);
    if (key !== undefined && keyMatches(key, row.id, row.key_check)) return key;
    await audit.appendStandalone(viewerEntry(row, viewer, 'failure', { reason: 'wrong_key' }));
    throw new CofferError(
      'share_link_wrong_key',
      'this link is incomplete or was changed: copy all of it, including the part after "#"',
    );
  }

  function previewOf(row: ShareLinkRow, viewsLeft = row.max_views - row.views): ShareLinkPreview {
    return {
      id: row.id,
      secretName: row.secret_name,
      secretKind: row.secret_kind,
      fields: JSON.parse(row.fields) as string[],
      createdByName: row.created_by_name,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      viewsLeft: Math.max(0, viewsLeft),
      passphraseRequired: row.passphrase === 1,
    };
  }

  /** Counts a wrong passphrase; the one that reaches the limit revokes the link. */
  async function wrongPassphrase(row: ShareLinkRow, viewer: ShareLinkViewer, given: boolean): Promise<never> {
    if (!given) {
      throw new CofferError('share_link_wrong_passphrase', 'this link needs its passphrase', {
        details: { attemptsLeft: limits.maxFailedAttempts - row.failed_attempts },
      });
    }
    const burned = await inTransaction(database, async (tx) => {
      const failures = await countFailure(tx, row.id);
      const reachedLimit = failures !== undefined && failures >= limits.maxFailedAttempts;
      const revoked = reachedLimit && (await endLink(tx, row.id, isoNow(clock), 'too_many_failures'));
      await audit.append(
        tx,
        viewerEntry(row, viewer, 'failure', { reason: 'wrong_passphrase', failedAttempts: failures ?? 0 }),
      );
      if (revoked) await audit.append(tx, systemEntry(row, 'too_many_failures'));
      return { failures: failures ?? limits.maxFailedAttempts, reachedLimit };
    });
    if (burned.reachedLimit) {
      throw closedError((await findLink(db, row.id)) ?? row, isoNow(clock));
    }
    throw new CofferError('share_link_wrong_passphrase', 'the passphrase is wrong', {
      details: { attemptsLeft: limits.maxFailedAttempts - burned.failures },
    });
  }

  return {
    /**
     * Makes a link to the secret's current values (or `fields` of them). Needs `read`: the
     * values are revealed (audited as `secret.reveal`), sealed under a fresh link key, and the
     * link is recorded as `share_link.create`. The key is in the answer only.
     */
    async create(actor: Actor, ref: string, input: CreateShareLinkInput = {}): Promise<CreatedShareLink> {
      const who = await deps.resolveActor(actor);
      const issues = createIssues(input);
      if (issues.length > 0) throw CofferError.validation(issues);
      const { row: secret } = await authorize(db, audit, who, ref, 'createShareLink');
      const revealed = await deps.reveal(actor, secret.id);
      const fields = input.fields === undefined ? Object.keys(revealed.values).sort() : [...input.fields];
      const missing = fields
        .map((name, i) => ({ name, i }))
        .filter(({ name }) => !Object.hasOwn(revealed.values, name));
      if (missing.length > 0) {
        throw CofferError.validation(
          missing.map(({ name, i }) => ({
            path: `fields.${i}`,
            message: `secret "${secret.name}" has no field "${name}"`,
          })),
        );
      }
      if (fields.length === 0) {
        throw CofferError.validation([{ path: 'fields', message: `secret "${secret.name}" has no values` }]);
      }
      const shared: SecretValues = Object.fromEntries(fields.map((name) => [name, revealed.values[name]!]));

      const id = randomUUID();
      const key = newLinkKey();
      const kdf = newKdf(input.passphrase !== undefined, deps.passphraseCost);
      const sealKey = await sealingKey(key, id, kdf, input.passphrase);
      const plaintext = Buffer.from(JSON.stringify({ values: shared }), 'utf8');
      const created = clock();
      const row: ShareLinkRow = {
        id,
        secret_id: secret.id,
        secret_name: secret.name,
        secret_kind: secret.kind,
        created_by: who.id,
        created_by_name: who.name,
        fields: JSON.stringify(fields),
        created_at: created.toISOString(),
        expires_at: new Date(
          created.getTime() + (input.ttlSeconds ?? limits.defaultTtlSeconds) * 1000,
        ).toISOString(),
        max_views: input.maxViews ?? limits.defaultMaxViews,
        views: 0,
        failed_attempts: 0,
        passphrase: input.passphrase === undefined ? 0 : 1,
        kdf: JSON.stringify(kdf),
        key_check: keyCheckOf(key, id),
        sealed: sealCopy(sealKey, id, secret.id, plaintext),
        last_viewed_at: null,
        revoked_at: null,
        revoked_by: null,
        ended_at: null,
        end_reason: null,
      };
      const encoded = encodeLinkKey(key);
      for (const buffer of [key, sealKey, plaintext]) buffer.fill(0);
      await inTransaction(database, async (tx) => {
        await insertLink(tx, row);
        await audit.append(
          tx,
          secretAudit(who, 'share_link.create', secret, {
            details: {
              linkId: id,
              version: revealed.version,
              fields,
              maxViews: row.max_views,
              expiresAt: row.expires_at,
              passphrase: row.passphrase === 1,
            },
          }),
        );
      });
      return { link: toShareLink(row, row.created_at), key: encoded, path: `/s/${id}#${encoded}` };
    },

    /** The secret's links, newest first (needs `read`): metadata only, never a key or a value. */
    async list(actor: Actor, ref: string, page: PageRequest = {}): Promise<Page<ShareLink>> {
      const who = await deps.resolveActor(actor);
      const limit = pageLimit(page);
      const after =
        page.cursor === undefined || page.cursor === null
          ? undefined
          : (([createdAt, id]) => ({ createdAt: createdAt as string, id: id as string }))(
              decodeCursor(page.cursor, ['string', 'string']),
            );
      const { row: secret } = await authorize(db, audit, who, ref, 'listShareLinks', 'any');
      const rows = await linksOfSecret(db, secret.id, {
        ...(after === undefined ? {} : { after }),
        limit: limit + 1,
        features: database.features,
      });
      const now = isoNow(clock);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map((row) => toShareLink(row, now)),
        nextCursor:
          rows.length > limit && last !== undefined ? encodeCursor([last.created_at, last.id]) : null,
      };
    },

    /**
     * Revokes a link: its copy is destroyed at once and it opens no more. Its creator may, and
     * whoever may `manage` the secret (admins too). Revoking a link that already ended changes nothing.
     */
    async revoke(actor: Actor, linkId: string): Promise<ShareLink> {
      const who = await deps.resolveActor(actor);
      const row = await linkNamed(linkId);
      const isCreator = who.type !== 'group' && who.id === row.created_by;
      if (!isCreator) {
        const secret = await findSecretById(db, row.secret_id);
        const access =
          secret === undefined
            ? effectiveAccess(who, '', [])
            : effectiveAccess(who, secret.owner_id, (await sharesOf(db, [secret.id])).get(secret.id)!);
        if (!allows(access, 'revokeShareLink')) {
          await audit.appendStandalone(
            secretAudit(
              who,
              'share_link.revoke',
              { id: row.secret_id, name: row.secret_name },
              { outcome: 'denied', details: { linkId: row.id } },
            ),
          );
          if (!canSee(access)) {
            throw new CofferError('not_found', 'no such share link');
          }
          throw new CofferError(
            'forbidden',
            'revoking a share link needs manage on its secret, or having made it',
            {
              details: { held: access.level },
            },
          );
        }
      }
      const now = isoNow(clock);
      if (row.ended_at === null && stateOf(row, now) === 'expired') {
        await endAutomatically(row, 'expired');
      } else if (row.ended_at === null) {
        await inTransaction(database, async (tx) => {
          if (await endLink(tx, row.id, now, 'revoked', who.id)) {
            await audit.append(
              tx,
              secretAudit(
                who,
                'share_link.revoke',
                { id: row.secret_id, name: row.secret_name },
                { details: { linkId: row.id, views: row.views } },
              ),
            );
          }
        });
      }
      return toShareLink((await findLink(db, row.id)) ?? row, isoNow(clock));
    },

    /**
     * What the holder of a link may learn before opening it (whose secret, which fields, views
     * left, whether a passphrase is needed). Needs the link's key; counts no view.
     */
    async preview(
      linkId: string,
      input: { key: string },
      viewer: ShareLinkViewer = {},
    ): Promise<ShareLinkPreview> {
      const row = await linkNamed(linkId);
      await requireOpen(row, viewer);
      (await requireKey(row, input.key, viewer)).fill(0);
      return previewOf(row);
    },

    /**
     * Opens a link: checks that it is still open and that the key (and passphrase) open it,
     * counts the view in one atomic statement (so concurrent opens of a last view, on any
     * replica, let exactly one through), destroys the copy after the last view, and returns the
     * values. A wrong key or passphrase counts no view and is audited as a failed view.
     */
    async open(
      linkId: string,
      input: OpenShareLinkInput,
      viewer: ShareLinkViewer = {},
    ): Promise<OpenedShareLink> {
      const row = await linkNamed(linkId);
      await requireOpen(row, viewer);
      const key = await requireKey(row, input.key, viewer);
      const kdf = parseKdf(row.kdf);
      if (kdf === undefined || row.sealed === null) {
        key.fill(0);
        throw new CofferError('integrity', 'this link was stored in a form this server cannot read');
      }
      const passphrase =
        typeof input.passphrase === 'string' && input.passphrase !== '' ? input.passphrase : undefined;
      if (row.passphrase === 1 && passphrase === undefined) {
        key.fill(0);
        return wrongPassphrase(row, viewer, false);
      }
      const sealKey = await sealingKey(key, row.id, kdf, row.passphrase === 1 ? passphrase : undefined);
      key.fill(0);
      const plaintext = openCopy(sealKey, row.id, row.secret_id, row.sealed);
      sealKey.fill(0);
      if (plaintext === undefined) {
        if (row.passphrase === 1) return wrongPassphrase(row, viewer, true);
        await audit.appendStandalone(viewerEntry(row, viewer, 'failure', { reason: 'integrity' }));
        throw new CofferError('integrity', "this link's sealed copy failed its integrity check");
      }
      let values: SecretValues;
      try {
        values = (JSON.parse(plaintext.toString('utf8')) as { values: SecretValues }).values;
      } finally {
        plaintext.fill(0);
      }

      const counted = await inTransaction(database, async (tx) => {
        const now = isoNow(clock);
        if (!(await countView(tx, row.id, now))) return undefined;
        const after = await tx
          .selectFrom('share_links')
          .select(['views', 'max_views'])
          .where('id', '=', row.id)
          .executeTakeFirstOrThrow();
        await audit.append(
          tx,
          viewerEntry(row, viewer, 'success', {
            view: after.views,
            maxViews: after.max_views,
            last: after.views >= after.max_views,
          }),
        );
        return after;
      });
      if (counted === undefined) {
        // Another open took the last view (or the link ended) between the checks and the count.
        const now = (await findLink(db, row.id)) ?? row;
        await requireOpen(now, viewer);
        throw new CofferError('conflict', 'this link is being opened elsewhere; try again');
      }
      return { ...previewOf(row, counted.max_views - counted.views), values };
    },

    /** Revokes the open links of a secret that was deleted or purged (the links die with it). */
    async revokeForSecret(secretId: string): Promise<number> {
      let revoked = 0;
      for (;;) {
        const rows = await openLinksOfGoneSecrets(db, 100, secretId);
        if (rows.length === 0) return revoked;
        for (const row of rows) if (await endAutomatically(row, 'secret_deleted')) revoked++;
      }
    },

    /**
     * Upkeep, run with the engine's purge: destroys the copies of links whose time ran out
     * (`share_link.expire`) and revokes the open links of deleted or purged secrets.
     */
    async sweep(): Promise<{ expired: number; revoked: number }> {
      let expired = 0;
      let revoked = 0;
      for (let rows = await expiredOpenLinks(db, isoNow(clock), 100); rows.length > 0; ) {
        for (const row of rows) if (await endAutomatically(row, 'expired')) expired++;
        rows = await expiredOpenLinks(db, isoNow(clock), 100);
      }
      for (let rows = await openLinksOfGoneSecrets(db, 100); rows.length > 0; ) {
        for (const row of rows) if (await endAutomatically(row, 'secret_deleted')) revoked++;
        rows = await openLinksOfGoneSecrets(db, 100);
      }
      return { expired, revoked };
    },
  };
}

export type ShareLinkService = ReturnType<typeof createShareLinkService>;

function createIssues(input: CreateShareLinkInput): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const whole = (value: unknown, min: number, max: number) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
  if (
    input.ttlSeconds !== undefined &&
    !whole(input.ttlSeconds, limits.minTtlSeconds, limits.maxTtlSeconds)
  ) {
    issues.push({
      path: 'ttlSeconds',
      message: `must be a whole number of seconds from ${limits.minTtlSeconds} (5 minutes) to ${limits.maxTtlSeconds} (30 days)`,
    });
  }
  if (input.maxViews !== undefined && !whole(input.maxViews, limits.minViews, limits.maxViews)) {
    issues.push({
      path: 'maxViews',
      message: `must be a whole number from ${limits.minViews} to ${limits.maxViews}`,
    });
  }
  if (input.fields !== undefined) {
    if (!Array.isArray(input.fields) || input.fields.some((f) => typeof f !== 'string' || f === '')) {
      issues.push({ path: 'fields', message: 'must be a list of field names' });
    } else if (new Set(input.fields).size !== input.fields.length) {
      issues.push({ path: 'fields', message: 'names a field twice' });
    } else if (input.fields.length === 0) {
      issues.push({ path: 'fields', message: 'names no field (leave it out to share every field)' });
    }
  }
  if (input.passphrase !== undefined) {
    const length = typeof input.passphrase === 'string' ? [...input.passphrase].length : -1;
    if (length < limits.minPassphraseLength || length > limits.maxPassphraseLength) {
      issues.push({
        path: 'passphrase',
        message: `must be ${limits.minPassphraseLength} to ${limits.maxPassphraseLength} characters`,
      });
    }
  }
  return issues;
}
