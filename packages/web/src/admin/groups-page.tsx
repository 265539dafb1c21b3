import { type FormEvent, useState } from 'react';
import { client } from '../api/client';
import { fieldIssues } from '../api/errors';
import { Link, navigate } from '../app/router';
import { useAction, useResource } from '../app/use-resource';
import { Dialog } from '../ui/dialog';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { FormField } from '../ui/form-field';
import { PageHeader } from '../ui/page-header';
import { useToast } from '../ui/toasts';
import { useFocusFirstInvalid } from '../ui/use-focus-invalid';

/** Groups: a secret shared with a group is usable by its members (at `use`, not visible). */
export function GroupsPage() {
  const groups = useResource(async () => await client.groups.list({ limit: 500 }), []);
  const [creating, setCreating] = useState(false);
  const items = groups.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Groups"
        subtitle="Share a secret with a group to let its members use it."
        actions={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New group
          </button>
        }
      />
      {groups.state === 'error' ? <ErrorMessage onRetry={groups.reload}>{groups.error}</ErrorMessage> : null}
      {groups.data === undefined && groups.state === 'loading' ? <Loading /> : null}
      {groups.data !== undefined && items.length === 0 ? <EmptyState title="No groups yet." /> : null}
      {items.length > 0 ? (
        <ul className="secret-list" aria-label="Groups">
          {items.map((g) => (
            <li key={g.id} className="secret-card">
              <span className="group-mark" aria-hidden="true">
                {g.name.slice(0, 1).toUpperCase()}
              </span>
              <div className="secret-card-main">
                <p className="secret-card-title">
                  <Link href={`/admin/groups/${g.id}`}>{g.name}</Link>
                  {g.builtin ? <span className="badge">builtin</span> : null}
                </p>
                {g.description === '' ? null : <p className="secret-card-description">{g.description}</p>}
              </div>
              <p className="secret-card-meta muted">
                {g.memberCount} {g.memberCount === 1 ? 'member' : 'members'}
              </p>
            </li>
          ))}
        </ul>
      ) : null}
      {creating ? <NewGroupDialog onClose={() => setCreating(false)} /> : null}
    </>
  );
}

function NewGroupDialog({ onClose }: { onClose: () => void }) {
  const toast = useToast();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useAction(
    async () =>
      await client.groups.create({
        name: name.trim(),
        ...(description.trim() === '' ? {} : { description: description.trim() }),
      }),
  );
  const issues = fieldIssues(create.cause);
  useFocusFirstInvalid(create.cause);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create.run();
    if (result.ok) {
      toast(`Group ${result.value.name} created`);
      navigate(`/admin/groups/${result.value.id}`);
    }
  };
  return (
    <Dialog title="New group" open onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorMessage>{create.error}</ErrorMessage>
        <FormField label="Name" required error={issues.name}>
          {(control) => (
            <input {...control} className="input" value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </FormField>
        <FormField label="Description" error={issues.description}>
          {(control) => (
            <input
              {...control}
              className="input"
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          )}
        </FormField>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.busy}>
            Create group
          </button>
        </div>
      </form>
    </Dialog>
  );
}
