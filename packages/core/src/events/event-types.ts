/** What changed about a secret; events never carry values. */
export type SecretEventType =
  | 'secret.created'
  | 'secret.updated'
  | 'secret.renamed'
  | 'secret.deleted'
  | 'secret.restored'
  | 'secret.purged'
  | 'secret.shared'
  | 'secret.unshared';

/** Every secret event type, for validation and documentation. */
export const secretEventTypes: readonly SecretEventType[] = [
  'secret.created',
  'secret.updated',
  'secret.renamed',
  'secret.deleted',
  'secret.restored',
  'secret.purged',
  'secret.shared',
  'secret.unshared',
];

/**
 * A change to a secret, as every replica sees it. `seq` orders events across all servers that
 * share the database (it is the sequence number of the change's audit record) and is the cursor
 * to resume from.
 */
export interface SecretEvent {
  /** Position in the feed: pass it as `after` to resume. */
  seq: number;
  type: SecretEventType;
  secretId: string;
  name: string;
  kind: string;
  /** The current version after the change. */
  version: number;
  /** Who made the change. */
  actorId: string;
  /** The secret's owner at the time of the change. */
  ownerId: string;
  at: string;
}

export type SecretEventListener = (event: SecretEvent) => void;

/**
 * Changes to who someone is or what they belong to (internal: caches of actors listen to them,
 * nothing outside the engine does). `subject` is the user, token or group that changed.
 */
export type IdentityEventType = 'identity.user' | 'identity.token' | 'identity.group';

export interface IdentityEvent {
  seq: number;
  type: IdentityEventType;
  subject: string;
  at: string;
}

/** What the feed delivers internally: secret events and identity events, in `seq` order. */
export type FeedEvent = SecretEvent | IdentityEvent;

/** What a change records in its transaction: an event without its `seq` and time (the audit record's). */
export type SecretEventInput = Omit<SecretEvent, 'seq' | 'at'>;
export type IdentityEventInput = Omit<IdentityEvent, 'seq' | 'at'>;

export function isSecretEvent(event: FeedEvent): event is SecretEvent {
  return event.type.startsWith('secret.');
}
