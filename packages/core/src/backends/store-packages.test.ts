import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isCofferError } from '../errors/coffer-error.js';
import { type BackendDefinition, defineBackend } from './backend.js';
import { assertKeepFits, storePackages, storePackagesFor } from './store-packages.js';

describe('storePackagesFor', () => {
  it('names the package of each configured store type not defined otherwise, once', () => {
    expect(
      storePackagesFor(
        {
          a: { type: 'aws-secrets-manager' },
          b: { type: 'aws-secrets-manager' },
          c: { type: 'file' },
          d: { type: 'azure-key-vault' },
        },
        new Set(['file', 'sql', 'memory']),
      ),
    ).toEqual([storePackages['aws-secrets-manager'], storePackages['azure-key-vault']]);
  });

  it('leaves a type alone that a module or code already defines', () => {
    expect(storePackagesFor({ a: { type: 'aws-ssm' } }, new Set(['aws-ssm']))).toEqual([]);
  });
});

describe('assertKeepFits', () => {
  it('refuses a versions.keep the store cannot hold, naming the setting and the backend', () => {
    let caught: unknown;
    try {
      assertKeepFits(20, [{ name: 'aws', limits: { maxVersionsPerSecret: 18 } }, { name: 'sql' }]);
    } catch (err) {
      caught = err;
    }
    expect(isCofferError(caught, 'invalid_config')).toBe(true);
    expect((caught as Error).message).toContain('versions.keep');
    expect((caught as Error).message).toContain('backend aws holds at most 18 versions');
  });

  it('accepts keep up to one below the cap (a new version is written before the oldest goes)', () => {
    expect(() => assertKeepFits(17, [{ name: 'aws', limits: { maxVersionsPerSecret: 18 } }])).not.toThrow();
    expect(() => assertKeepFits(18, [{ name: 'aws', limits: { maxVersionsPerSecret: 18 } }])).toThrow();
  });
});

describe('createCoffer with a capped store', () => {
  it('refuses to start with a versions.keep the active store cannot hold', async () => {
    const { createCofferFixture } = await import('../test-support/coffer-fixture.js');
    const { memoryBackendDefinition } = await import('./memory/memory-backend.js');
    const capped = defineBackend({
      id: 'capped',
      displayName: 'Capped',
      description: 'memory with a version cap',
      configSchema: z.object({}),
      capabilities: memoryBackendDefinition.capabilities,
      create: async (_config, context) => {
        const inner = await memoryBackendDefinition.create({}, context);
        return Object.assign(Object.create(inner) as typeof inner, { limits: { maxVersionsPerSecret: 5 } });
      },
    });
    const err = await createCofferFixture(
      'sqlite',
      { backends: { capped: { type: 'capped' } }, backend: 'capped', versions: { keep: 10 } },
      { backendDefinitions: [capped as BackendDefinition] },
    ).catch((e: unknown) => e);
    expect(isCofferError(err, 'invalid_config')).toBe(true);
    expect((err as Error).message).toContain(
      'backend capped holds at most 5 versions of a secret; keep at most 4',
    );
  });
});
