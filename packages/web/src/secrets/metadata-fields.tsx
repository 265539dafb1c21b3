import { FormField } from '../ui/form-field';

/**
 * The server's messages about labels: on the whole (`labels`) and on one label (`labels.Env`,
 * named in the message so the person knows which one), joined into one.
 */
function labelsError(issues: Record<string, string>): string | undefined {
  const messages = Object.entries(issues)
    .filter(([path]) => path === 'labels' || path.startsWith('labels.'))
    .map(([path, message]) => (path === 'labels' ? message : `${path.slice('labels.'.length)}: ${message}`));
  return messages.length === 0 ? undefined : messages.join('; ');
}

/**
 * The description and labels inputs, shared by the "New secret" and edit forms. Labels are
 * typed as `key=value` pairs separated by commas (see ./labels.ts).
 */
export function MetadataFields(props: {
  description: string;
  labels: string;
  issues: Record<string, string>;
  onDescription: (value: string) => void;
  onLabels: (value: string) => void;
}) {
  return (
    <>
      <FormField label="Description" error={props.issues.description}>
        {(control) => (
          <input
            {...control}
            name="description"
            className="input"
            value={props.description}
            onChange={(e) => props.onDescription(e.target.value)}
          />
        )}
      </FormField>
      <FormField
        label="Labels"
        help="Comma-separated, e.g. env=prod, team=ops"
        error={labelsError(props.issues)}
      >
        {(control) => (
          <input
            {...control}
            name="labels"
            className="input"
            autoComplete="off"
            value={props.labels}
            onChange={(e) => props.onLabels(e.target.value)}
          />
        )}
      </FormField>
    </>
  );
}
