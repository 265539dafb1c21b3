import { type FormEvent, useMemo, useState } from 'react';
import { client } from '../api/client';
import { fieldIssues } from '../api/errors';
import type { Kind } from '../api/types';
import { Link, navigate } from '../app/router';
import { useAction } from '../app/use-resource';
import { FreeFormFields, type FreeFormRow } from '../forms/free-form-fields';
import { type FormState, formOfSchema, initialFormState, valuesOfForm } from '../forms/schema-fields';
import { SchemaFields } from '../forms/schema-form';
import { ReminderFields, reminderSettings } from '../reminders/reminder-fields';
import { KindGallery } from '../secrets/kind-gallery';
import { useKinds } from '../secrets/kinds';
import { parseLabels } from '../secrets/labels';
import { MetadataFields } from '../secrets/metadata-fields';
import { valuesOfRows } from '../secrets/secret-form-state';
import { ErrorMessage, Loading } from '../ui/feedback';
import { FormField } from '../ui/form-field';
import { KindLogo } from '../ui/kind-logo';
import { PageHeader } from '../ui/page-header';
import { useToast } from '../ui/toasts';
import { useFocusFirstInvalid } from '../ui/use-focus-invalid';

/** "New secret": first the gallery of kinds, then the form of the chosen kind. */
export function NewSecretPage({ kindId }: { kindId: string | undefined }) {
  const kinds = useKinds();
  if (kinds.state === 'error') {
    return (
      <>
        <PageHeader title="New secret" />
        <ErrorMessage onRetry={kinds.reload}>{kinds.error}</ErrorMessage>
      </>
    );
  }
  if (kinds.data === undefined) return <Loading label="Loading kinds…" />;
  if (kindId === undefined) {
    return (
      <>
        <PageHeader title="New secret" subtitle="Choose what kind of secret to store." />
        <KindGallery kinds={kinds.data} />
      </>
    );
  }
  const kind = kinds.data.find((k) => k.id === kindId);
  if (kind === undefined) {
    return (
      <>
        <PageHeader title="New secret" />
        <ErrorMessage>There is no kind “{kindId}”.</ErrorMessage>
        <Link href="/new">Choose a kind</Link>
      </>
    );
  }
  return <NewSecretForm key={kind.id} kind={kind} />;
}

function NewSecretForm({ kind }: { kind: Kind }) {
  const toast = useToast();
  const spec = useMemo(() => formOfSchema(kind.jsonSchema), [kind]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [labels, setLabels] = useState('');
  const [expires, setExpires] = useState('');
  const [rotateEvery, setRotateEvery] = useState(
    kind.rotateEveryDays === null ? '' : String(kind.rotateEveryDays),
  );
  const [state, setState] = useState<FormState>(() => initialFormState(spec.fields));
  const [rows, setRows] = useState<FreeFormRow[]>([{ key: '', value: '' }]);
  const create = useAction(
    async () =>
      await client.secrets.create({
        name: name.trim(),
        kind: kind.id,
        ...(description.trim() === '' ? {} : { description: description.trim() }),
        ...(labels.trim() === '' ? {} : { labels: parseLabels(labels) }),
        ...reminderSettings(expires, rotateEvery),
        values: spec.freeForm ? valuesOfRows(rows) : valuesOfForm(spec.fields, state),
      }),
  );
  const issues = fieldIssues(create.cause);
  useFocusFirstInvalid(create.cause);
  const valueIssues = fieldIssues(create.cause, 'values.');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create.run();
    if (result.ok) {
      toast(`Secret “${result.value.name}” created`);
      navigate(`/secrets/${result.value.id}`);
    }
  };

  return (
    <>
      <PageHeader
        title={`New ${kind.displayName}`}
        subtitle={kind.description}
        logo={<KindLogo src={kind.logo} size={48} />}
        actions={
          <Link href="/new" className="button">
            Other kind
          </Link>
        }
      />
      <form className="card form" onSubmit={submit} noValidate aria-label={`New ${kind.displayName}`}>
        <ErrorMessage>{create.error}</ErrorMessage>
        <FormField label="Name" required help="Unique; used to refer to the secret." error={issues.name}>
          {(control) => (
            <input
              {...control}
              name="name"
              className="input"
              autoComplete="off"
              spellCheck={false}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </FormField>
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
          kindDefault={kind.rotateEveryDays}
          onExpires={setExpires}
          onRotateEvery={setRotateEvery}
        />
        <h2 className="form-section">Values</h2>
        {spec.freeForm ? (
          <FreeFormFields rows={rows} issues={valueIssues} maxFields={spec.maxFields} onChange={setRows} />
        ) : (
          <SchemaFields
            fields={spec.fields}
            state={state}
            issues={valueIssues}
            onChange={(field, value) => setState((s) => ({ ...s, [field]: value }))}
          />
        )}
        {valueIssues[''] === undefined ? null : <p className="field-error">{valueIssues['']}</p>}
        <div className="form-actions">
          <Link href="/" className="button">
            Cancel
          </Link>
          <button type="submit" className="button button-primary" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create secret'}
          </button>
        </div>
      </form>
    </>
  );
}
