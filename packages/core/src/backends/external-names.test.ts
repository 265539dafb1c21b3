import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CofferError, isCofferError } from '../errors/coffer-error.js';
import {
  assertOwnedValue,
  assertValueRef,
  externalSecretName,
  externalValueName,
  ownerLabels,
  parseExternalName,
} from './external-names.js';
import { normalizeBackendError } from './guarded-backend.js';

const id = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

function caught(fn: () => unknown): CofferError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CofferError) return err;
    throw err;
  }
  throw new Error('expected a CofferError');
}

describe('external names', () => {
  it('are made of the cluster prefix and the secret id, with the separator the store allows', () => {
    expect(externalSecretName({ clusterPrefix: 'prod' }, id)).toBe(`prod/${id}`);
    expect(externalValueName({ clusterPrefix: 'prod' }, { secretId: id, version: 3 })).toBe(`prod/${id}/v3`);
    expect(externalValueName({ clusterPrefix: 'eu-1', separator: '-' }, { secretId: id, version: 12 })).toBe(
      `eu-1-${id}-v12`,
    );
  });

  it('read back into refs, and refuse names of other prefixes or other shapes', () => {
    for (const separator of ['/', '-', '_', '.']) {
      const options = { clusterPrefix: 'a-b', separator };
      expect(parseExternalName(options, externalValueName(options, { secretId: id, version: 7 }))).toEqual({
        secretId: id,
        version: 7,
      });
      expect(parseExternalName(options, externalSecretName(options, id))).toEqual({ secretId: id });
    }
    const options = { clusterPrefix: 'prod' };
    expect(parseExternalName(options, `staging/${id}/v1`)).toBeNull();
    expect(parseExternalName(options, `prod/${id}/v0`)).toBeNull();
    expect(parseExternalName(options, `prod/${id}/v1/x`)).toBeNull();
    expect(parseExternalName(options, 'prod/my-database-password/v1')).toBeNull();
    expect(parseExternalName({ clusterPrefix: 'prod', separator: '-' }, `prod-${id}-v2`)).toEqual({
      secretId: id,
      version: 2,
    });
  });

  it('are never made from a user-chosen name, a bad prefix or separator', () => {
    expect(caught(() => externalSecretName({ clusterPrefix: 'prod' }, 'smtp/../../x')).code).toBe(
      'validation',
    );
    expect(caught(() => externalSecretName({ clusterPrefix: 'Prod!' }, id)).code).toBe('validation');
    expect(caught(() => externalSecretName({ clusterPrefix: 'prod', separator: '#' }, id)).code).toBe(
      'validation',
    );
    expect(caught(() => assertValueRef({ secretId: id, version: 0 })).code).toBe('validation');
    expect(caught(() => assertValueRef({ secretId: id.toUpperCase(), version: 1 })).code).toBe('validation');
    assertValueRef({ secretId: id, version: 1 });
  });
});

describe('owner labels', () => {
  const ours = { deploymentId: randomUUID(), clusterPrefix: 'prod' };
  const ref = { secretId: id, version: 2 };

  it('mark the owning deployment, and let its own values through', () => {
    const labels = ownerLabels(ours, ref);
    expect(labels).toEqual({
      'coffer-deployment': ours.deploymentId,
      'coffer-cluster': 'prod',
      'coffer-secret-id': id,
      'coffer-version': '2',
    });
    assertOwnedValue(labels, ours, ref, 'vault');
  });

  it('refuse a value of another deployment, an unlabelled one, or one labelled for another ref', () => {
    const theirs = { deploymentId: randomUUID(), clusterPrefix: 'prod' };
    const foreign = caught(() => assertOwnedValue(ownerLabels(theirs, ref), ours, ref, 'vault'));
    expect(foreign.code).toBe('integrity');
    expect(foreign.message).toContain(theirs.deploymentId);
    expect(foreign.message).toContain(ours.deploymentId);
    expect(caught(() => assertOwnedValue(undefined, ours, ref, 'vault')).code).toBe('integrity');
    expect(
      caught(() => assertOwnedValue(ownerLabels(ours, { ...ref, version: 1 }), ours, ref, 'vault')).code,
    ).toBe('integrity');
  });
});

describe('backend errors', () => {
  const backend = { name: 'vault', type: 'vault-kv' };
  const ref = { secretId: id, version: 1 };

  it('keep Coffer errors, including those of another copy of @coffer/core', () => {
    const own = new CofferError('value_not_found', 'nothing');
    expect(normalizeBackendError(backend, 'get', ref, own)).toBe(own);
    const foreign = Object.assign(new Error('no value here'), {
      name: 'CofferError',
      code: 'value_not_found',
    });
    const normalized = normalizeBackendError(backend, 'get', ref, foreign);
    expect(isCofferError(normalized, 'value_not_found')).toBe(true);
    expect(normalized.message).toBe('no value here');
    expect(normalized.cause).toBe(foreign);
  });

  it('turn anything else into backend_unavailable naming the code but never the message', () => {
    const vendor = Object.assign(new Error('AccessDenied for value s3cr3t'), {
      code: 'AccessDeniedException',
    });
    const normalized = normalizeBackendError(backend, 'put', ref, vendor);
    expect(normalized.code).toBe('backend_unavailable');
    expect(normalized.message).toBe(
      `backend vault (vault-kv) failed to put secret ${id} version 1: AccessDeniedException`,
    );
    expect(normalized.message).not.toContain('s3cr3t');
    const weird = normalizeBackendError(
      backend,
      'list',
      undefined,
      Object.assign(new Error('x'), { code: 'has value s3cr3t' }),
    );
    expect(weird.message).toBe('backend vault (vault-kv) failed to list');
  });
});
