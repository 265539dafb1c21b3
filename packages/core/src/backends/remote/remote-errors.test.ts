import { describe, expect, it } from 'vitest';
import { remoteFailure, valueTooLarge } from './remote-errors.js';

const ref = { secretId: '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', version: 3 };

describe('remoteFailure', () => {
  it('names the backend, the operation, the ref, the reason and the vendor code, and keeps no cause', () => {
    const err = remoteFailure({
      backend: 'aws',
      type: 'aws-secrets-manager',
      operation: 'get',
      ref,
      reason: 'permission_denied',
      vendorCode: 'AccessDeniedException',
    });
    expect(err.code).toBe('backend_unavailable');
    expect(err.message).toBe(
      `backend aws (aws-secrets-manager) failed to get secret ${ref.secretId} version 3: permission denied by the store (AccessDeniedException)`,
    );
    expect(err.details).toEqual({
      backend: 'aws',
      reason: 'permission_denied',
      vendorCode: 'AccessDeniedException',
    });
    expect(err.cause).toBeUndefined();
  });

  it('drops a vendor code that does not look like one (it could carry request data)', () => {
    const err = remoteFailure({
      backend: 'gcp',
      type: 'gcp-secret-manager',
      operation: 'put',
      reason: 'rejected',
      vendorCode: 'password=hunter2 is invalid',
    });
    expect(err.message).not.toContain('hunter2');
    expect(err.details.vendorCode).toBeUndefined();
  });
});

describe('valueTooLarge', () => {
  it('is payload_too_large with the sizes', () => {
    const err = valueTooLarge('ssm', ref, 5000, 4096, 'SSM standard parameter');
    expect(err.code).toBe('payload_too_large');
    expect(err.details).toEqual({ backend: 'ssm', bytes: 5000, limit: 4096 });
  });
});
