import { CofferError, type FieldIssue } from '../errors/coffer-error.js';

/**
 * An `invalid_config` error listing every offending setting, like `CofferError.validation` does
 * for input. Issue messages must never quote a setting's value: it may be a key.
 *
 * @example
 * throw invalidConfig([{ path: 'keyring.variable', message: 'must be a variable name' }]);
 */
export function invalidConfig(issues: FieldIssue[], message?: string): CofferError {
  const summary =
    message ?? `invalid keyring settings: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  return new CofferError('invalid_config', summary, { details: { issues } });
}
