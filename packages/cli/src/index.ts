// The public surface of @coffer/cli, listed by name: the command itself is `dist/bin.js`.

export { createProgram, main } from './cli.js';
export {
  type CliConfig,
  ConfigStore,
  configDir,
  configPath,
  type StoredLogin,
} from './config/config-store.js';
export {
  type Credentials,
  defaultAddress,
  normalizeAddress,
  resolveCredentials,
} from './config/credentials.js';
export { CliError, UsageError } from './errors/cli-error.js';
export {
  type CliErrorCode,
  cliErrorCodes,
  type ExitCode,
  exitCodeOf,
  exitCodeOfErrorCode,
  exitCodes,
} from './errors/exit-codes.js';
export { type ErrorReport, reportOf } from './errors/report-error.js';
export { type DataFormat, dataFormats } from './formats/data-formats.js';
export { formatDotenv, parseDotenv, quoteDotenvValue } from './formats/dotenv-format.js';
export { envName } from './formats/env-names.js';
export { fromDocument, type SecretDocumentEntry, toDocument } from './formats/secret-document.js';
export { type ChildExit, shellExitCode } from './run/child-process.js';
export { cliVersion } from './version.js';
