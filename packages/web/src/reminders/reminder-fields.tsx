import { FormField } from '../ui/form-field';

/** The date an expiry input shows: the day of a stored expiry (ISO), or empty for none. */
export function expiryInput(expiresAt: string | null): string {
  return expiresAt === null ? '' : expiresAt.slice(0, 10);
}

/** The rotation input's text: the interval in days, or empty for none. */
export function rotationInput(days: number | null): string {
  return days === null ? '' : String(days);
}

/**
 * What the inputs mean for the API: an expiry date (the start of that day, UTC) or null, and a
 * rotation interval in days or null. A number the server would refuse is sent as it is, so its
 * message shows under the field.
 */
export function reminderSettings(expires: string, rotateEvery: string) {
  const days = rotateEvery.trim();
  return {
    expiresAt: expires === '' ? null : expires,
    rotateEveryDays: days === '' ? null : Number(days),
  };
}

/**
 * The expiry date and rotation interval inputs, shared by the "New secret" and edit forms
 * (docs/reminders.md). Empty means none.
 */
export function ReminderFields(props: {
  expires: string;
  rotateEvery: string;
  issues: Record<string, string>;
  /** The kind's default interval, as a hint. */
  kindDefault: number | null;
  onExpires: (value: string) => void;
  onRotateEvery: (value: string) => void;
}) {
  const hint =
    props.kindDefault === null
      ? 'Empty: no rotation is expected.'
      : `Empty: none. This kind's habit: ${props.kindDefault} days.`;
  return (
    <div className="form-row">
      <FormField
        label="Expires on"
        help="When the credentials stop working; empty: never."
        error={props.issues.expiresAt}
      >
        {(control) => (
          <input
            {...control}
            type="date"
            name="expiresAt"
            className="input"
            value={props.expires}
            onChange={(e) => props.onExpires(e.target.value)}
          />
        )}
      </FormField>
      <FormField label="Rotate every (days)" help={hint} error={props.issues.rotateEveryDays}>
        {(control) => (
          <input
            {...control}
            type="number"
            inputMode="numeric"
            min={1}
            max={3650}
            name="rotateEveryDays"
            className="input"
            value={props.rotateEvery}
            onChange={(e) => props.onRotateEvery(e.target.value)}
          />
        )}
      </FormField>
    </div>
  );
}
