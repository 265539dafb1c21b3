import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCofferError } from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config/load-server-config.js';
import { resolveSsoSettings } from './oidc-settings.js';

const required = {
  COFFER_SSO_ISSUER: 'https://id.example.com/realms/staff',
  COFFER_SSO_CLIENT_ID: 'coffer',
  COFFER_SSO_PUBLIC_URL: 'https://coffer.example.com/',
};

function problems(env: Record<string, string>): string {
  try {
    loadServerConfig(env);
  } catch (err) {
    if (isCofferError(err, 'invalid_config')) {
      return (err.details.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('\n');
    }
    throw err;
  }
  throw new Error('expected invalid_config');
}

describe('single sign-on settings', () => {
  it('are off unless configured, and read from COFFER_SSO_* variables with their defaults', () => {
    expect(loadServerConfig({}).config.server.sso).toBeUndefined();
    const { config } = loadServerConfig({
      ...required,
      COFFER_SSO_SCOPES: 'openid, profile, groups',
      COFFER_SSO_GROUPS_CLAIM: 'groups',
      COFFER_SSO_GROUP_MAPPING: 'staff-eng=engineering, oncall=ops, oncall=engineering',
      COFFER_SSO_PASSWORD_LOGIN: 'admins',
      COFFER_SSO_AUTO_CREATE_USERS: 'no',
    });
    const sso = resolveSsoSettings(config.server.sso!, '/api/v1');
    expect(sso).toMatchObject({
      issuer: required.COFFER_SSO_ISSUER,
      clientId: 'coffer',
      clientSecret: undefined,
      name: 'single sign-on',
      scopes: ['openid', 'profile', 'groups'],
      usernameClaim: 'preferred_username',
      groupsClaim: 'groups',
      redirectUri: 'https://coffer.example.com/api/v1/auth/sso/callback',
      passwordLogin: 'admins',
      policy: {
        autoCreateUsers: false,
        linkExistingUsers: false,
        matchExistingGroups: false,
        groupMapping: { 'staff-eng': ['engineering'], oncall: ['ops', 'engineering'] },
      },
    });
  });

  it('reads the client secret from a file, and never quotes a secret back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-sso-'));
    const file = join(dir, 'secret');
    writeFileSync(file, 'PLANTED-sso-secret-from-file\n');
    const { config } = loadServerConfig({ ...required, COFFER_SSO_CLIENT_SECRET_FILE: file });
    expect(config.server.sso).toMatchObject({ clientSecret: 'PLANTED-sso-secret-from-file' });
    expect(config.server.sso?.clientSecretFile).toBeUndefined();

    const both = problems({
      ...required,
      COFFER_SSO_CLIENT_SECRET: 'PLANTED-x',
      COFFER_SSO_CLIENT_SECRET_FILE: file,
    });
    expect(both).toContain('COFFER_SSO_CLIENT_SECRET_FILE: give clientSecret or clientSecretFile, not both');
    expect(both).not.toContain('PLANTED');
    expect(problems({ ...required, COFFER_SSO_CLIENT_SECRET_FILE: join(dir, 'missing') })).toMatch(
      /COFFER_SSO_CLIENT_SECRET_FILE: cannot read .*missing \(ENOENT\)/,
    );
  });

  it('names every problem: a missing setting, plain http elsewhere than here, a bad policy', () => {
    const text = problems({
      COFFER_SSO_ISSUER: 'http://id.example.com',
      COFFER_SSO_PASSWORD_LOGIN: 'sometimes',
      COFFER_SSO_SCOPES: 'profile',
      COFFER_SSO_GROUP_MAPPING: 'no pairs here',
    });
    expect(text).toContain(
      'COFFER_SSO_ISSUER: must be https (plain http only for a provider on this machine',
    );
    expect(text).toMatch(/COFFER_SSO_CLIENT_ID \(or|COFFER_SSO_CLIENT_ID: /);
    expect(text).toContain('COFFER_SSO_PASSWORD_LOGIN: must be all, admins or none (got "sometimes")');
    expect(text).toContain('COFFER_SSO_SCOPES: must include openid');
    expect(text).toContain('COFFER_SSO_GROUP_MAPPING: must map provider groups to Coffer groups');
    expect(problems({ COFFER_SSO_ISSUER: required.COFFER_SSO_ISSUER, COFFER_SSO_CLIENT_ID: 'c' })).toBe(
      'COFFER_SSO_PUBLIC_URL: is required: the URL browsers reach Coffer at (or give redirectUri)',
    );
    expect(() => loadServerConfig({ ...required, COFFER_SSO_ISSUER: 'http://127.0.0.1:9999' })).not.toThrow();
  });
});
