import { type FormEvent, useMemo, useRef, useState } from 'react';
import { client } from '../api/client';
import { conflictOf, fieldIssues } from '../api/errors';
import type { FieldValue, SecretMetadata, SecretValues } from '../api/types';
import { useAction } from '../app/use-resource';
import { FreeFormFields, type FreeFormRow } from '../forms/free-form-fields';
import { changesOfForm, type FieldSpec, type FormState, formStateOf } from '../forms/schema-fields';
import { SchemaFields } from '../forms/schema-form';
import { expiryInput, ReminderFields, reminderSettings, rotationInput } from '../reminders/reminder-fields';
import { ErrorMessage } from '../ui/feedback';
import { useFocusFirstInvalid } from '../ui/use-focus-invalid';
import { ConflictDialog } from './conflict-dialog';
import { formatLabels, parseLabels } from './labels';
import { MetadataFields } from './metadata-fields';
import { changesOfRows } from './secret-form-state';

/**
 * Edits values, description and labels. Only what changed is sent: a secret field still holding
 * the mask is not, so the stored password stays (the masking round trip). The write is
 * conditional on the version the form was loaded from; a conflict offers reload or overwrite.
 * Description and labels are sent before the values (they do not change the version).
 */
export function EditSecretForm(props: {
  secret: SecretMetadata;
  values: SecretValues;
  fields: readonly FieldSpec[];
  freeForm: boolean;
  maxFields: number | undefined;
  /** The kind's default rotation interval, as a hint beside the input. */
  kindRotateEveryDays?: number | null;
  onSaved: (secret: SecretMetadata) => void;
  /** Description and labels were saved, though the values may still be refused. */
  onMetadataSaved: (secret: SecretMetadata) => void;
  onReload: () => void;
  onCancel: () => void;
}) {
  const { secret, values, fields } = props;
  const loaded = useMemo(() => formStateOf(fields, values.values), [fields, values]);
  const loadedRows = useMemo<FreeFormRow[]>(
    () =>
      Object.entries(values.values).map(([key, value]) => ({
        key,
        value: String(value),
        original: key,
        originalValue: String(value),
      })),
    [values],
  );
  const [state, setState] = useState<FormState>(loaded);
  const [rows, setRows] = useState<FreeFormRow[]>(loadedRows);
  const [description, setDescription] = useState(secret.description);
  const [labels, setLabels] = useState(formatLabels(secret.labels));
  const [expires, setExpires] = useState(expiryInput(secret.expiresAt));
  const [rotateEvery, setRotateEvery] = useState(rotationInput(secret.rotateEveryDays));
  const saveRef = useRef<HTMLButtonElement>(null);
  const [conflict, setConflict] = useState<{ currentVersion: number | undefined } | undefined>();
  const masked = useMemo(
    () => new Set(values.maskedFields.filter((f) => state[f] === loaded[f])),
    [values, state, loaded],
  );

  // `ifRevision` too when saving over what was loaded: then a description or label edit made by
  // someone else since is a conflict as well. Overwrite sends the version alone.
  const save = useAction(async ({ ifVersion, ifRevision }: { ifVersion?: number; ifRevision?: number }) => {
    const changes = props.freeForm
      ? changesOfRows(
          rows,
          loadedRows.map((r) => r.key),
        )
      : changesOfForm(fields, loaded, state);
    let current = secret;
    const condition = ifVersion === undefined ? {} : { ifVersion };
    const metadataCondition = ifRevision === undefined ? condition : { ...condition, ifRevision };
    // Metadata first: it leaves the version alone, so the values below are written on the same
    // condition, and a refused description or label (a 422) has saved nothing yet. Were the
    // values first, their new version would make the next Save a false conflict.
    const newLabels = parseLabels(labels);
    // Expiry and rotation are sent only when touched, so an expiry with a time of day (set over
    // the API) survives an edit of the values.
    const reminders = reminderSettings(expires, rotateEvery);
    const reminderChanges = {
      ...(expires === expiryInput(secret.expiresAt) ? {} : { expiresAt: reminders.expiresAt }),
      ...(rotateEvery === rotationInput(secret.rotateEveryDays)
        ? {}
        : { rotateEveryDays: reminders.rotateEveryDays }),
    };
    if (
      description !== secret.description ||
      formatLabels(newLabels) !== formatLabels(secret.labels) ||
      Object.keys(reminderChanges).length > 0
    ) {
      current = await client.secrets.updateMetadata(
        secret.id,
        { description, labels: newLabels, ...reminderChanges },
        metadataCondition,
      );
      // Saved even if the values below are refused: the page (and this form's baseline) moves on.
      props.onMetadataSaved(current);
    }
    if (Object.keys(changes.values).length > 0 || changes.removeKeys.length > 0) {
      current = await client.secrets.updateValues(
        secret.id,
        {
          ...(Object.keys(changes.values).length > 0
            ? { values: changes.values as Record<string, FieldValue> }
            : {}),
          ...(changes.removeKeys.length > 0 ? { removeKeys: changes.removeKeys } : {}),
        },
        condition,
      );
    }
    return current;
  });

  const submit = async (condition: { ifVersion?: number; ifRevision?: number }) => {
    const result = await save.run(condition);
    if (result.ok) {
      setConflict(undefined);
      props.onSaved(result.value);
      return;
    }
    const clash = conflictOf(result.cause);
    if (clash !== undefined) setConflict(clash);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ ifVersion: values.version, ifRevision: secret.revision });
  };

  const issues = fieldIssues(save.cause);
  useFocusFirstInvalid(save.cause);
  const valueIssues = fieldIssues(save.cause, 'values.');
  return (
    <form className="form" onSubmit={onSubmit} noValidate aria-label={`Edit ${secret.name}`}>
      {conflict === undefined ? <ErrorMessage>{save.error}</ErrorMessage> : null}
      <MetadataFields
        description={description}
        labels={labels}
        issues={issues}
        onDescription={setDescription}
        onLabels={setLabels}
      />
      <ReminderFields
        expires={expires}
        rotateEvery={rotateEvery}
        issues={issues}
        kindDefault={props.kindRotateEveryDays ?? null}
        onExpires={setExpires}
        onRotateEvery={setRotateEvery}
      />
      {props.freeForm ? (
        <FreeFormFields rows={rows} issues={valueIssues} maxFields={props.maxFields} onChange={setRows} />
      ) : (
        <SchemaFields
          fields={fields}
          state={state}
          issues={valueIssues}
          masked={masked}
          onChange={(name, value) => setState((s) => ({ ...s, [name]: value }))}
        />
      )}
      <div className="form-actions">
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button ref={saveRef} type="submit" className="button button-primary" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save changes'}
        </button>
      </div>
      <ConflictDialog
        open={conflict !== undefined}
        editedVersion={values.version}
        currentVersion={conflict?.currentVersion}
        busy={save.busy}
        returnFocus={saveRef}
        onClose={() => setConflict(undefined)}
        onReload={() => {
          setConflict(undefined);
          props.onReload();
        }}
        onOverwrite={() =>
          void submit(conflict?.currentVersion === undefined ? {} : { ifVersion: conflict.currentVersion })
        }
      />
    </form>
  );
}
