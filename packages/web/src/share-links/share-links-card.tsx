import { client } from '../api/client';
import type { ShareLink } from '../api/types';
import { type Resource, useAction } from '../app/use-resource';
import { ErrorMessage, Loading } from '../ui/feedback';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

const stateText: Record<ShareLink['state'], string> = {
  active: 'active',
  used: 'used',
  expired: 'expired',
  revoked: 'revoked',
};

const reasonText: Record<NonNullable<ShareLink['revokeReason']>, string> = {
  revoked: 'revoked',
  secret_deleted: 'secret deleted',
  too_many_failures: 'too many wrong passphrases',
};

/**
 * A secret's share links, newest first: state, fields, views, expiry, who made them, and
 * Revoke for the open ones the user made (or all, for those who manage the secret).
 */
export function ShareLinksCard(props: {
  links: Resource<{ items: ShareLink[] } | undefined>;
  userId: string;
  canManage: boolean;
}) {
  const toast = useToast();
  const { links } = props;
  const revoke = useAction(async (link: ShareLink) => await client.shareLinks.revoke(link.id));
  const items = links.data?.items ?? [];

  const remove = async (link: ShareLink) => {
    const result = await revoke.run(link);
    if (result.ok) {
      toast('Share link revoked');
      links.reload();
    }
  };

  return (
    <section className="card" aria-labelledby="share-links-title">
      <h2 id="share-links-title">Share links</h2>
      {links.state === 'error' ? <ErrorMessage onRetry={links.reload}>{links.error}</ErrorMessage> : null}
      {links.data === undefined && links.state === 'loading' ? (
        <Loading label="Loading share links…" />
      ) : null}
      {links.data !== undefined && items.length === 0 ? (
        <p className="muted">No share links. “Share link” makes one for someone without an account.</p>
      ) : null}
      <ul className="share-list" aria-label="Share links">
        {items.map((link) => (
          <li key={link.id} className="share-row share-link-row" data-link-id={link.id}>
            <span>
              <span className="grantee-name">{link.fields.join(', ')}</span>
              <span className="muted">
                {' '}
                · {link.views}/{link.maxViews} {link.maxViews === 1 ? 'view' : 'views'}
                {link.passphrase ? ' · passphrase' : ''} · by {link.createdByName} ·{' '}
                {link.state === 'active' ? 'expires' : 'made'}{' '}
                <Time value={link.state === 'active' ? link.expiresAt : link.createdAt} />
              </span>
            </span>
            <span className={`badge badge-${link.state === 'used' ? 'done' : link.state}`}>
              {link.state === 'revoked' && link.revokeReason !== null
                ? reasonText[link.revokeReason]
                : stateText[link.state]}
            </span>
            {link.state === 'active' && (props.canManage || link.createdBy === props.userId) ? (
              <button
                type="button"
                className="button button-small"
                aria-label={`Revoke the share link to ${link.fields.join(', ')} made by ${link.createdByName}`}
                disabled={revoke.busy}
                onClick={() => remove(link)}
              >
                Revoke
              </button>
            ) : (
              <span />
            )}
          </li>
        ))}
      </ul>
      <ErrorMessage>{revoke.error}</ErrorMessage>
    </section>
  );
}
