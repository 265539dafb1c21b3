import { describe, expect, it } from 'vitest';
import { ssoClaimsOf } from './oidc-claims.js';
import { OidcFailure } from './oidc-client.js';
import { bindingCookieName, loopbackRedirect, safeNextPath, secretsOf } from './oidc-flow.js';

describe('the pieces of a sign-in', () => {
  it('accepts only loopback addresses for the CLI', () => {
    expect(loopbackRedirect('http://127.0.0.1:53123/callback')?.href).toBe('http://127.0.0.1:53123/callback');
    expect(loopbackRedirect('http://[::1]:8000/cb')).toBeDefined();
    expect(loopbackRedirect('http://localhost:8000/cb')).toBeDefined();
    for (const bad of [
      'https://127.0.0.1:53123/callback',
      'http://127.0.0.1/callback',
      'http://127.0.0.2:8000/cb',
      'http://evil.example:8000/cb',
      'http://127.0.0.1.evil.example:8000/cb',
      'http://user:pw@127.0.0.1:8000/cb',
      'http://127.0.0.1:8000/cb#frag',
      'javascript:alert(1)',
    ]) {
      expect(loopbackRedirect(bad), bad).toBeUndefined();
    }
  });

  it('returns only to paths of this site', () => {
    expect(safeNextPath('/secrets/42?tab=history#v3')).toBe('/secrets/42?tab=history#v3');
    for (const bad of [
      '//evil.example/',
      '/\\evil.example',
      'https://evil.example/',
      'secrets',
      '/login?next=/x',
      '/a\nb',
    ]) {
      expect(safeNextPath(bad), bad).toBe('/');
    }
    expect(safeNextPath(undefined)).toBe('/');
  });

  it('derives the verifier and nonce from the binding, and a cookie name per state', () => {
    const a = secretsOf('binding-a');
    expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.nonce).not.toBe(a.verifier);
    expect(secretsOf('binding-a')).toEqual(a);
    expect(secretsOf('binding-b').verifier).not.toBe(a.verifier);
    expect(bindingCookieName('state-1')).toMatch(/^coffer_sso_[0-9a-f]{16}$/);
    expect(bindingCookieName('state-1')).not.toBe(bindingCookieName('state-2'));
  });

  it('reads the claims core needs, as the settings say', () => {
    const signIn = {
      issuer: 'https://id.example.com',
      subject: 'u-1',
      claims: {
        preferred_username: 'Ada',
        name: 'Ada L.',
        email: 'ada@example.com',
        email_verified: false,
        roles: 'eng',
      },
    };
    expect(ssoClaimsOf(signIn, { usernameClaim: 'preferred_username', groupsClaim: 'roles' })).toEqual({
      issuer: 'https://id.example.com',
      subject: 'u-1',
      username: 'Ada',
      displayName: 'Ada L.',
      groups: ['eng'],
    });
    expect(
      ssoClaimsOf(signIn, { usernameClaim: 'preferred_username', groupsClaim: 'groups' }).groups,
    ).toEqual([]);
    expect(
      ssoClaimsOf(signIn, { usernameClaim: 'preferred_username', groupsClaim: undefined }),
    ).not.toHaveProperty('groups');
    expect(() => ssoClaimsOf(signIn, { usernameClaim: 'upn', groupsClaim: undefined })).toThrow(OidcFailure);
  });
});
