import { EventEmitter } from 'node:events';

/** What changed; events never carry values. */
export type SecretEventType =
  | 'secret.created'
  | 'secret.updated'
  | 'secret.renamed'
  | 'secret.deleted'
  | 'secret.restored'
  | 'secret.purged'
  | 'secret.shared'
  | 'secret.unshared';

export interface SecretEvent {
  type: SecretEventType;
  secretId: string;
  name: string;
  kind: string;
  /** The current version after the change. */
  version: number;
  /** Who made the change. */
  actorId: string;
  at: string;
}

export type SecretEventListener = (event: SecretEvent) => void;

/**
 * In-process change notifications, so an embedding application (or `watch`) can reload
 * when a secret changes. A throwing listener is logged by the caller, never breaks a write.
 *
 * @example
 * const off = coffer.events.subscribe((e) => { if (e.name === 'smtp') reloadMailer(); });
 */
export interface EventBus {
  subscribe(listener: SecretEventListener): () => void;
  publish(event: SecretEvent): void;
}

export function createEventBus(onListenerError: (err: unknown) => void = () => {}): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    subscribe(listener) {
      const safe = (event: SecretEvent) => {
        try {
          listener(event);
        } catch (err) {
          onListenerError(err);
        }
      };
      emitter.on('event', safe);
      return () => emitter.off('event', safe);
    },
    publish(event) {
      emitter.emit('event', event);
    },
  };
}
