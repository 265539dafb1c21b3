import { randomUUID } from 'node:crypto';
import { effectiveAccess } from '../access/access-policy.js';
import { requireAdmin } from '../access/require-admin.js';
import { auditEntry } from '../audit/audit-entry.js';
import type { CofferConfig } from '../config/coffer-config.js';
import { CofferError, type FieldIssue, isCofferError } from '../errors/coffer-error.js';
import { type Actor, asGroup, type ResolvedActor } from '../identity/actor.js';
import { smtpKind } from '../kinds/builtin/smtp-kind.js';
import type { Kind, KindValues } from '../kinds/index.js';
import type { Logger } from '../logging/logger.js';
import { ReachMemory } from '../secrets/reach-memory.js';
import type { AuditWriter } from '../secrets/secret-access.js';
import { secretAudit } from '../secrets/secret-access.js';
import type { UsedSecret } from '../secrets/secret-service.js';
import { sharesOf } from '../secrets/secret-store.js';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, encodeCursor, type Page, pageLimit } from '../shared/page.js';
import type { CofferDatabase } from '../storage/database.js';
import { reminderMail } from './reminder-mail.js';
import { dueReasons, horizonOf, withinDaysIssues } from './reminder-schedule.js';
import {
  claimedKeys,
  claimReminder,
  dueCandidates,
  dueCounts,
  dueRows,
  keyText,
  markReminderSent,
  type ReminderKey,
  releaseReminder,
  tidyClaims,
} from './reminder-store.js';
import {
  type DueCounts,
  type DueSecret,
  type DueSecretsQuery,
  type Mailer,
  type ReminderRunResult,
  reminderReasons,
} from './reminder-types.js';

/** The audit purpose of the reminder job's `use` of the SMTP secret. */
export const reminderPurpose = 'expiry and rotation reminders';

/** A claim that was never marked sent after this long belonged to a claimant that stopped. */
const claimLeaseMs = 15 * 60_000;
const pageSize = 200;

export interface ReminderServiceDeps {
  database: CofferDatabase;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: AuditWriter;
  kinds: { get(id: string): Kind | undefined };
  /** The secrets engine's `use`: how the job gets the SMTP settings, as the `system` group. */
  use: (
    actor: Actor,
    ref: string,
    options: { purpose: string; kind: typeof smtpKind },
  ) => Promise<UsedSecret<KindValues<typeof smtpKind>>>;
  systemGroupId: () => Promise<string>;
  /** Sends the mails; without one, nothing is mailed (and a run says why). */
  mailer?: Mailer | undefined;
  clock: Clock;
  logger: Logger;
  settings: CofferConfig['reminders'];
}

/**
 * Expiry and rotation reminders: what is due (for a caller, filtered by what it may read), how
 * much is due (for metrics), and the job that mails each owner once per secret, reason and
 * period through the SMTP secret shared with the `system` group.
 *
 * @example
 * const page = await coffer.reminders.dueSecrets(actor, { withinDays: 14 });
 * const result = await coffer.reminders.run(); // { due, sent, claimedElsewhere, noRecipient, failed }
 */
export function createReminderService(deps: ReminderServiceDeps) {
  const { database, audit, clock, logger, settings } = deps;
  const db = database.db;
  // Claims say who made them, so a failed mail only releases this engine's own claim.
  const instanceId = randomUUID();
  const reachMemory = new ReachMemory();

  function checkWithin(withinDays: unknown, issues: FieldIssue[]): number {
    const days = withinDays ?? settings.withinDays;
    issues.push(...withinDaysIssues(days));
    return days as number;
  }

  return {
    /**
     * Live secrets that expired, expire within `withinDays`, or are due for rotation within it
     * (or overdue), earliest first, that the caller may read: owners, `read` shares and admins.
     * A holder of `use` alone sees none of them, as in every list.
     */
    async dueSecrets(actor: Actor, query: DueSecretsQuery = {}): Promise<Page<DueSecret>> {
      const who = await deps.resolveActor(actor);
      const issues: FieldIssue[] = [];
      const withinDays = checkWithin(query.withinDays, issues);
      if (query.reason !== undefined && !reminderReasons.includes(query.reason)) {
        issues.push({ path: 'reason', message: `is one of ${reminderReasons.join(', ')}` });
      }
      const view = query.view ?? 'accessible';
      if (view !== 'accessible' && view !== 'mine')
        issues.push({ path: 'view', message: 'is accessible or mine' });
      let limit = 0;
      try {
        limit = pageLimit(query);
      } catch (err) {
        if (!isCofferError(err, 'validation')) throw err;
        issues.push(...(err.details.issues ?? []));
      }
      if (issues.length > 0) throw CofferError.validation(issues);
      const after =
        query.cursor === undefined || query.cursor === null
          ? undefined
          : (([dueAt, id]) => ({ dueAt: dueAt as string, id: id as string }))(
              decodeCursor(query.cursor, ['string', 'string']),
            );
      const now = clock();
      const rows = await dueRows(db, {
        actor: who,
        mine: view === 'mine',
        now: now.toISOString(),
        horizon: horizonOf(now, withinDays),
        ...(query.reason === undefined ? {} : { reason: query.reason }),
        ...(after === undefined ? {} : { after }),
        limit: limit + 1,
        features: database.features,
        reachMemory,
      });
      const page = rows.slice(0, limit);
      // Read and audited at once, as a list of secrets is (secret-service.ts, listPage).
      const [shares] = await Promise.all([
        sharesOf(
          db,
          page.map((r) => r.id),
        ),
        audit.appendStandalone(
          secretAudit(who, 'secret.list', {}, { details: { count: page.length, due: true, withinDays } }),
        ),
      ]);
      const last = page[page.length - 1];
      return {
        items: page.map((row) => {
          const access = effectiveAccess(who, row.owner_id, shares.get(row.id)!);
          const reasons = dueReasons(row, now, withinDays).map((r) => r.reason);
          return {
            id: row.id,
            name: row.name,
            kind: row.kind,
            description: row.description,
            ownerId: row.owner_id,
            expiresAt: row.expires_at,
            rotateEveryDays: row.rotate_every_days,
            rotationDueAt: row.rotation_due_at,
            dueAt: row.due_at!,
            reasons,
            access: { level: access.level, basis: access.basis },
          };
        }),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.due_at!, last.id]) : null,
      };
    },

    /**
     * How many live secrets are due within `withinDays` (default `reminders.withinDays`), by
     * reason, over every secret: for operators' metrics, so it names none of them.
     */
    async counts(withinDays: number = settings.withinDays): Promise<DueCounts> {
      const issues = withinDaysIssues(withinDays);
      if (issues.length > 0) throw CofferError.validation(issues);
      const now = clock();
      return dueCounts(db, now.toISOString(), horizonOf(now, withinDays));
    },

    /**
     * The reminder job (the engine runs it every `reminders.intervalMinutes`): finds what is
     * due within `reminders.withinDays`, claims each reminder (secret, reason, period) by a
     * unique insert so only one engine on the database sends it, and mails the secret's owner
     * through the SMTP secret `reminders.smtpSecret`, which it uses as the `system` group.
     * Values are consumed here, never shown, and no mail holds one. A failed mail gives its
     * claim back for the next run. Each mail is audited as `reminder.sent`.
     */
    run,

    /** {@link run} on an admin's demand (needs an admin with a read-write token); audited as `reminder.run`. */
    runNow,
  };

  async function run(): Promise<ReminderRunResult> {
    const result: ReminderRunResult = { due: 0, sent: 0, claimedElsewhere: 0, noRecipient: 0, failed: 0 };
    const now = clock();
    const nowIso = now.toISOString();
    await tidyClaims(db, new Date(now.getTime() - claimLeaseMs).toISOString());
    const horizon = horizonOf(now, settings.withinDays);
    let smtp: { values: KindValues<typeof smtpKind>; who: ResolvedActor } | undefined;
    let after: { dueAt: string; id: string } | undefined;
    for (;;) {
      const candidates = await dueCandidates(db, horizon, after, pageSize, database.features);
      if (candidates.length === 0) break;
      const last = candidates[candidates.length - 1]!.row;
      after = { dueAt: last.due_at!, id: last.id };
      const claimed = await claimedKeys(
        db,
        candidates.map((c) => c.row.id),
      );
      for (const { row, owner } of candidates) {
        for (const due of dueReasons(row, now, settings.withinDays)) {
          const key: ReminderKey = { secretId: row.id, reason: due.reason, periodKey: due.periodKey };
          if (claimed.has(keyText(key))) continue;
          result.due++;
          if (owner === null || owner.disabled || owner.email === null || owner.email === '') {
            result.noRecipient++;
            continue;
          }
          if (smtp === undefined) {
            const ready = await smtpSettings();
            if ('warning' in ready) {
              result.warning = ready.warning;
              logger.warn({ smtpSecret: settings.smtpSecret }, `reminders not sent: ${ready.warning}`);
              return result;
            }
            smtp = ready;
          }
          if (!(await claimReminder(db, key, nowIso, instanceId))) {
            result.claimedElsewhere++;
            continue;
          }
          const message = reminderMail({
            secret: row,
            kindName: deps.kinds.get(row.kind)?.displayName ?? row.kind,
            due,
            recipient: { name: owner.displayName || owner.username, email: owner.email },
            from: settings.from ?? smtp.values.from ?? fallbackSender(smtp.values),
            now,
            webUrl: settings.webUrl,
          });
          const target = { type: 'secret' as const, id: row.id, name: row.name };
          const details = { reason: due.reason, dueAt: due.date, recipientId: owner.id };
          try {
            await deps.mailer!.send(smtp.values, message);
          } catch (err) {
            // The next run tries again. The transport's message may quote the server's
            // answer; only its code is kept.
            await releaseReminder(db, key, instanceId);
            result.failed++;
            const code = errorCode(err);
            logger.warn(
              { secretId: row.id, reason: due.reason, code },
              'a reminder mail failed; the next run retries',
            );
            await audit.appendStandalone(
              auditEntry(smtp.who, 'reminder.sent', 'failure', target, { ...details, code }),
            );
            continue;
          }
          await markReminderSent(db, key, clock().toISOString());
          await audit.appendStandalone(auditEntry(smtp.who, 'reminder.sent', 'success', target, details));
          result.sent++;
        }
      }
      if (candidates.length < pageSize) break;
    }
    if (result.noRecipient > 0) {
      logger.warn(
        { count: result.noRecipient },
        `${result.noRecipient} reminder(s) not mailed: their owners have no email address or are disabled`,
      );
    }
    if (result.sent > 0 || result.failed > 0) {
      logger.info({ sent: result.sent, failed: result.failed }, 'expiry and rotation reminders mailed');
    }
    return result;
  }

  /** Runs the job now for an admin (a "send now" button), audited as `reminder.run`. */
  async function runNow(actor: Actor): Promise<ReminderRunResult> {
    const who = await requireAdmin(deps, actor, {
      action: 'reminder.run',
      target: { type: 'secret' },
      write: true,
    });
    const result = await run();
    await audit.appendStandalone(
      auditEntry(
        who,
        'reminder.run',
        'success',
        { type: 'secret' },
        {
          due: result.due,
          sent: result.sent,
          failed: result.failed,
          noRecipient: result.noRecipient,
          ...(result.warning === undefined ? {} : { warning: result.warning }),
        },
      ),
    );
    return result;
  }

  /** The SMTP settings, used as the `system` group; or why they cannot be had. */
  async function smtpSettings(): Promise<
    { values: KindValues<typeof smtpKind>; who: ResolvedActor } | { warning: string }
  > {
    if (!settings.enabled) return { warning: 'reminders are turned off (reminders.enabled: false)' };
    if (deps.mailer === undefined) {
      return { warning: 'no mail transport: createCoffer was given no `mailer` (the server passes one)' };
    }
    const name = settings.smtpSecret;
    const system = asGroup(await deps.systemGroupId(), { source: 'system' });
    try {
      const used = await deps.use(system, name, { purpose: reminderPurpose, kind: smtpKind });
      return { values: used.values, who: await deps.resolveActor(system) };
    } catch (err) {
      const code = errorCode(err);
      const share = `share it with the system group at use: coffer share ${name} --group system`;
      switch (code) {
        case 'not_found':
        case 'forbidden':
          return {
            warning: `the SMTP secret "${name}" does not exist or is not shared with the system group (${share})`,
          };
        case 'validation':
          return { warning: `the secret "${name}" (reminders.smtpSecret) is not of kind smtp` };
        case 'conflict':
          return {
            warning: `several secrets named "${name}" are shared with the system group; set reminders.smtpSecret to the id of one`,
          };
        default:
          return { warning: `the SMTP secret "${name}" could not be used (${code})` };
      }
    }
  }
}

export type ReminderService = ReturnType<typeof createReminderService>;

/** A sender when neither the settings nor the SMTP secret name one. */
function fallbackSender(smtp: KindValues<typeof smtpKind>): string {
  if (smtp.username?.includes('@')) return smtp.username;
  return `coffer@${smtp.host}`;
}

/** A short, value-free code for a failure: Coffer's code, or the transport's (`EAUTH`, `ECONNECTION`). */
function errorCode(err: unknown): string {
  if (isCofferError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(code) ? code : 'error';
}
