import { type PasswordLoginPolicy, passwordLoginPolicies, type SsoPolicy } from '@coffer/core';
import { z } from 'zod';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whether `url` is plain HTTP to this machine: the only plain HTTP an identity provider may use. */
export function isLoopbackHttp(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed !== null && parsed.protocol === 'http:' && loopbackHosts.has(parsed.hostname);
}

const flag = z.boolean({ error: 'must be true or false' });
const httpUrl = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .refine((value) => /^https?:\/\/[^\s/?#]+/i.test(value) && URL.canParse(value), {
      error: `must be ${what}`,
    });
const claimName = z
  .string({ error: 'must be a claim name' })
  .regex(/^[A-Za-z0-9_:./-]{1,200}$/, 'must be a claim name (letters, digits, _ : . / -)');
const groupName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{1,63}$/,
    'must be the name of a Coffer group (lowercase, as in coffer group list)',
  );

/**
 * Single sign-on with an OpenID Connect provider: `server.sso` of the config file, or the
 * `COFFER_SSO_*` variables (docs/sso.md). Absent: no single sign-on.
 */
export const ssoSettingsSchema = z
  .strictObject({
    /** The provider's issuer URL; its `/.well-known/openid-configuration` is read on first use. */
    issuer: httpUrl('the issuer URL of an OpenID Connect provider (https://...)').refine(
      (issuer) => !issuer.toLowerCase().startsWith('http:') || isLoopbackHttp(issuer),
      { error: 'must be https (plain http only for a provider on this machine: 127.0.0.1, localhost)' },
    ),
    clientId: z.string({ error: 'must be the client id registered at the provider' }).min(1),
    /** The client secret (or `clientSecretFile`); none for a public client (PKCE only). Never logged. */
    clientSecret: z.string({ error: 'must be the client secret' }).min(1).optional(),
    /** A file holding the client secret (a mounted Kubernetes or Docker secret). */
    clientSecretFile: z
      .string({ error: 'must be the path of a file holding the client secret' })
      .min(1)
      .optional(),
    /** What the login page calls the provider: "Sign in with <name>". */
    name: z.string().trim().min(1).max(60, 'must be at most 60 characters').default('single sign-on'),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope name'))
      .refine((s) => s.includes('openid'), { error: 'must include openid' })
      .default(['openid', 'profile', 'email']),
    /** The claim that becomes the Coffer username (made lowercase and URL-safe). */
    usernameClaim: claimName.default('preferred_username'),
    /** A claim listing the account's groups at the provider; without it groups are not synced. */
    groupsClaim: claimName.optional(),
    /** A provider group → the Coffer group(s) it stands for; the targets are kept in step. */
    groupMapping: z
      .record(z.string().min(1).max(255), z.union([groupName, z.array(groupName).min(1)]), {
        error: 'must map provider groups to Coffer groups (a variable: provider-group=coffer-group,...)',
      })
      .default({}),
    /** Unmapped provider groups join the Coffer group of the same name, and every group follows the provider. */
    matchExistingGroups: flag.default(false),
    /** The first sign-in of an unknown account creates a member. */
    autoCreateUsers: flag.default(true),
    /** The first sign-in may link an existing user of the same username that has a password. */
    linkExistingUsers: flag.default(false),
    /** Who may still log in with a password: `all`, `admins` (the break-glass) or `none`. */
    passwordLogin: z
      .union(
        [
          z.enum(passwordLoginPolicies as [PasswordLoginPolicy, ...PasswordLoginPolicy[]]),
          // `true`/`false` read as all/none, for a config file that says it that way.
          z.boolean().transform((on): PasswordLoginPolicy => (on ? 'all' : 'none')),
        ],
        { error: 'must be all, admins or none' },
      )
      .default('all'),
    /** Coffer's address as browsers reach it; the redirect URI is this plus `/api/v1/auth/sso/callback`. */
    publicUrl: httpUrl('the URL browsers reach Coffer at (https://coffer.example.com)').optional(),
    /** The redirect URI registered at the provider, when it is not `<publicUrl>/api/v1/auth/sso/callback`. */
    redirectUri: httpUrl('the redirect URI registered at the provider').optional(),
  })
  .superRefine((sso, ctx) => {
    if (sso.publicUrl === undefined && sso.redirectUri === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['publicUrl'],
        message: 'is required: the URL browsers reach Coffer at (or give redirectUri)',
      });
    }
    if (sso.clientSecret !== undefined && sso.clientSecretFile !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecretFile'],
        message: 'give clientSecret or clientSecretFile, not both',
      });
    }
  });

export type SsoSettings = Readonly<z.output<typeof ssoSettingsSchema>>;

/** The path of the callback under the API prefix. */
export const ssoCallbackPath = '/auth/sso/callback';

/**
 * What the SSO routes need: the settings with the client secret read and the redirect URI
 * fixed (never taken from a request).
 *
 * @example
 * const sso = resolveSsoSettings(settings.sso, '/api/v1');
 */
export interface ResolvedSsoSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  name: string;
  scopes: readonly string[];
  usernameClaim: string;
  groupsClaim: string | undefined;
  redirectUri: string;
  passwordLogin: PasswordLoginPolicy;
  policy: SsoPolicy;
}

/**
 * The settings as the routes use them. `clientSecret` must already hold the file's content when
 * `clientSecretFile` was given (the config loader reads it).
 */
export function resolveSsoSettings(settings: SsoSettings, apiPrefix: string): ResolvedSsoSettings {
  const redirectUri =
    settings.redirectUri ?? `${settings.publicUrl!.replace(/\/+$/, '')}${apiPrefix}${ssoCallbackPath}`;
  return {
    issuer: settings.issuer,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    name: settings.name,
    scopes: settings.scopes,
    usernameClaim: settings.usernameClaim,
    groupsClaim: settings.groupsClaim,
    redirectUri,
    passwordLogin: settings.passwordLogin,
    policy: {
      autoCreateUsers: settings.autoCreateUsers,
      linkExistingUsers: settings.linkExistingUsers,
      groupMapping: Object.fromEntries(
        Object.entries(settings.groupMapping).map(([from, to]) => [from, typeof to === 'string' ? [to] : to]),
      ),
      matchExistingGroups: settings.matchExistingGroups,
    },
  };
}
