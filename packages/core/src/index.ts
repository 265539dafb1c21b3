export {
  CofferError,
  type CofferErrorDetails,
  type FieldIssue,
  isCofferError,
} from './errors/coffer-error.js';
export { type ErrorCode, errorCatalog, errorCodes } from './errors/error-catalog.js';
export { type CofferDatabase, dialectOf, openDatabase, redactUrl } from './storage/database.js';
export type { DialectName } from './storage/dialect.js';
export { migrateToLatest } from './storage/migrator.js';
