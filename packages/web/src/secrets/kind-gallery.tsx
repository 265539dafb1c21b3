import type { Kind } from '../api/types';
import { Link } from '../app/router';
import { KindLogo } from '../ui/kind-logo';

/** Every kind as a card to pick: logo, display name, description. */
export function KindGallery({ kinds }: { kinds: readonly Kind[] }) {
  return (
    <ul className="kind-gallery" aria-label="Kinds of secret">
      {kinds.map((kind) => (
        <li key={kind.id}>
          <Link href={`/new/${encodeURIComponent(kind.id)}`} className="kind-card">
            <KindLogo src={kind.logo} size={44} />
            <span className="kind-card-text">
              <span className="kind-card-name">{kind.displayName}</span>
              <span className="kind-card-description">{kind.description}</span>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
