import type { Kind, SecretMetadata } from '../api/types';
import { Link } from '../app/router';
import { DueBadges } from '../reminders/due-badges';
import { KindLogo } from '../ui/kind-logo';
import { Time } from '../ui/time';
import { LabelChips } from './label-chips';

/** One secret in a list: logo, name (the link), kind, description, labels, last change. */
export function SecretCard({ secret, kind }: { secret: SecretMetadata; kind: Kind | undefined }) {
  return (
    <li className="secret-card">
      <KindLogo src={kind?.logo} size={40} />
      <div className="secret-card-main">
        <p className="secret-card-title">
          <Link href={`/secrets/${secret.id}`}>{secret.name}</Link>
          <span className="muted"> · {kind?.displayName ?? secret.kind}</span>
        </p>
        {secret.description === '' ? null : <p className="secret-card-description">{secret.description}</p>}
        <LabelChips labels={secret.labels} />
      </div>
      <p className="secret-card-meta muted">
        Changed <Time value={secret.updatedAt} />
        <br />
        <AccessBadge secret={secret} />
        <DueBadges secret={secret} />
      </p>
    </li>
  );
}

/** How the caller holds a secret: owner, admin, or the level of a share. */
export function AccessBadge({ secret }: { secret: SecretMetadata }) {
  const { basis, level } = secret.access;
  const text = basis === 'owner' ? 'owner' : basis === 'admin' ? 'admin' : `shared: ${level ?? 'none'}`;
  return <span className={`badge badge-${basis}`}>{text}</span>;
}
