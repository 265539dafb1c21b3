import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { emptyBody, errorResponses, noQuery, pageOf } from '../schemas/common-schemas.js';
import { dueQuery, dueSecretSchema, reminderRunSchema } from '../schemas/reminder-schemas.js';

const tags = ['reminders'];

/**
 * Expiry and rotation reminders (docs/reminders.md): what is due, for the caller, and running
 * the mail job now (admins). Access control and auditing are core's.
 */
export function reminderRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/reminders/due',
    {
      schema: {
        tags,
        summary: 'Secrets that expired, expire or are due for rotation',
        description:
          'Live secrets whose expiry passed or comes within `within` days, or whose values are due for rotation within it (or overdue), earliest first. Only what the caller may read (admins: all): a secret held at `use` alone is never listed.',
        querystring: dueQuery,
        response: { 200: pageOf(dueSecretSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { within, ...rest } = request.query;
      return coffer.reminders.dueSecrets(actorOf(request), {
        ...rest,
        ...(within === undefined ? {} : { withinDays: within }),
      });
    },
  );

  app.post(
    '/reminders/run',
    {
      schema: {
        tags,
        summary: 'Mail the reminders that are due now (admins)',
        description:
          'Runs the reminder job at once instead of waiting for its timer: each owner gets one mail per secret, reason and due date, through the SMTP secret shared with the `system` group. Audited as `reminder.run`, each mail as `reminder.sent`.',
        querystring: noQuery,
        body: emptyBody,
        response: { 200: reminderRunSchema, ...errorResponses },
      },
    },
    async (request) => coffer.reminders.runNow(actorOf(request)),
  );
}
