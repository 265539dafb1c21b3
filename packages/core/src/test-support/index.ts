export * from './coffer-fixture.js';
export * from './databases.js';
