export * from '../migration/test-support/migration-fixture.js';
export * from './build-check.js';
export * from './coffer-fixture.js';
export * from './databases.js';
