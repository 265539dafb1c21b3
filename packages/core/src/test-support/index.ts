export * from './coffer-fixture.js';
export * from './databases.js';
export * from '../migration/test-support/migration-fixture.js';
