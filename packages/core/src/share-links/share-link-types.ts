import type { FieldValue } from '../kinds/kind-types.js';

/**
 * Where a link stands:
 * - `active`: it opens (within its time to live, views left, not revoked);
 * - `used`: it was opened `maxViews` times;
 * - `expired`: its time to live ran out first;
 * - `revoked`: someone revoked it, its secret was deleted, or too many wrong passphrases were tried.
 * Every state but `active` is final, and the link's copy of the values is gone.
 */
export type ShareLinkState = 'active' | 'used' | 'expired' | 'revoked';

/** Why a revoked link was revoked. */
export type ShareLinkRevokeReason = 'revoked' | 'secret_deleted' | 'too_many_failures';

/**
 * A share link as its secret's readers see it: metadata only, never the key nor a value.
 *
 * @example
 * { id, secretName: 'mail', fields: ['password'], state: 'active', views: 0, maxViews: 1, ... }
 */
export interface ShareLink {
  id: string;
  secretId: string;
  /** The secret's name when the link was made. */
  secretName: string;
  secretKind: string;
  /** The fields the link reveals. */
  fields: string[];
  createdBy: string;
  createdByName: string;
  createdAt: string;
  expiresAt: string;
  maxViews: number;
  views: number;
  /** Whether opening it needs a passphrase as well as the link. */
  passphrase: boolean;
  state: ShareLinkState;
  /** For `revoked`: why. */
  revokeReason: ShareLinkRevokeReason | null;
  revokedAt: string | null;
  /** A user id, or `system`. */
  revokedBy: string | null;
  lastViewedAt: string | null;
  /** Wrong passphrases tried so far. */
  failedAttempts: number;
}

/** What a link is made of: which fields, for how long, how many views, and a passphrase. */
export interface CreateShareLinkInput {
  /** The fields to share; default every field of the current version. */
  fields?: string[];
  /** Seconds until the link expires: 300 (5 minutes) to 2 592 000 (30 days); default 86 400. */
  ttlSeconds?: number;
  /** How many times it may be opened: 1 to 100; default 1. */
  maxViews?: number;
  /** Also needed to open it (8 to 1024 characters); send it to the recipient another way. */
  passphrase?: string;
}

/**
 * A new link. `key` is in this answer only: Coffer keeps no copy of it, so a lost link cannot be
 * recovered (make another). `path` is `/s/<id>#<key>`: prefix it with the web UI's address.
 */
export interface CreatedShareLink {
  link: ShareLink;
  key: string;
  path: string;
}

/** What a recipient needs to open a link. */
export interface OpenShareLinkInput {
  /** The part of the link after `#`. */
  key: string;
  passphrase?: string;
}

/** Who opens a link (no account): recorded in the audit log as an anonymous actor. */
export interface ShareLinkViewer {
  address?: string;
  source?: 'api' | 'cli' | 'web';
}

/** What the holder of a link learns before opening it (no view is counted). */
export interface ShareLinkPreview {
  id: string;
  secretName: string;
  secretKind: string;
  fields: string[];
  createdByName: string;
  createdAt: string;
  expiresAt: string;
  viewsLeft: number;
  passphraseRequired: boolean;
}

/** An opened link: the shared values, and what is left of it. */
export interface OpenedShareLink extends ShareLinkPreview {
  values: Record<string, FieldValue>;
  /** 0 when this was the last view: the copy is gone now. */
  viewsLeft: number;
}

/** The bounds of a link's settings (the API validates against the same numbers). */
export const shareLinkLimits = {
  minTtlSeconds: 300,
  maxTtlSeconds: 30 * 86_400,
  defaultTtlSeconds: 86_400,
  minViews: 1,
  maxViews: 100,
  defaultMaxViews: 1,
  minPassphraseLength: 8,
  maxPassphraseLength: 1024,
  /** Wrong passphrases a link survives; the next one revokes it. */
  maxFailedAttempts: 10,
} as const;
