import { useState } from 'react';
import { client } from '../api/client';
import type { GroupMember } from '../api/types';
import { Link, navigate } from '../app/router';
import { useAction, useResource } from '../app/use-resource';
import { type Grantee, GranteeSearch } from '../secrets/grantee-search';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

/** One group: its members (add by search, remove), and deleting the group. */
export function GroupPage({ id }: { id: string }) {
  const toast = useToast();
  const group = useResource(async () => await client.groups.get(id), [id]);
  const [deleting, setDeleting] = useState(false);
  const add = useAction(async (user: Grantee) => client.groups.addMember(id, user.id));
  const remove = useAction(async (member: GroupMember) => client.groups.removeMember(id, member.userId));
  const drop = useAction(async () => client.groups.delete(id));
  if (group.data === undefined) {
    return group.state === 'error' ? (
      <>
        <PageHeader title="Group" />
        <ErrorMessage onRetry={group.reload}>{group.error}</ErrorMessage>
      </>
    ) : (
      <Loading />
    );
  }
  const g = group.data;
  return (
    <>
      <PageHeader
        title={g.name}
        subtitle={g.description === '' ? 'Group' : g.description}
        actions={
          <>
            <Link href="/admin/groups" className="button">
              All groups
            </Link>
            {g.builtin ? null : (
              <button type="button" className="button button-danger" onClick={() => setDeleting(true)}>
                Delete group
              </button>
            )}
          </>
        }
      />
      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ErrorMessage>{remove.error}</ErrorMessage>
        {g.members.length === 0 ? <EmptyState title="No members yet." /> : null}
        <ul className="share-list" aria-label="Members">
          {g.members.map((m) => (
            <li key={m.userId} className="share-row">
              <span>
                <span className="grantee-name">{m.username}</span>
                <span className="muted"> {m.displayName}</span>
              </span>
              <span className="muted">
                added <Time value={m.addedAt} />
              </span>
              <button
                type="button"
                className="button button-small"
                aria-label={`Remove ${m.username} from ${g.name}`}
                disabled={remove.busy}
                onClick={async () => {
                  const result = await remove.run(m);
                  if (result.ok) {
                    toast(`${m.username} removed from ${g.name}`);
                    group.reload();
                  }
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="add-member-title">
        <h2 id="add-member-title">Add a member</h2>
        <ErrorMessage>{add.error}</ErrorMessage>
        <GranteeSearch
          types={['user']}
          label="Find a user"
          exclude={new Set(g.members.map((m) => `user:${m.userId}`))}
          onPick={async (user) => {
            const result = await add.run(user);
            if (result.ok) {
              toast(`${user.name} added to ${g.name}`);
              group.reload();
            }
          }}
        />
      </section>
      <ConfirmDialog
        open={deleting}
        title={`Delete the group ${g.name}?`}
        message="Its members lose what was shared with the group."
        confirmLabel="Delete group"
        danger
        busy={drop.busy}
        error={drop.error}
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          const result = await drop.run();
          if (result.ok) {
            toast(`Group ${g.name} deleted`);
            navigate('/admin/groups');
          }
        }}
      />
    </>
  );
}
