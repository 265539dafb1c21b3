/**
 * An error answer of Key Vault's data plane: the HTTP status and the `KeyVaultError` body
 * `{"error":{"code":"SecretNotFound","message":"...","innererror":{"code":"..."}}}`, as the
 * REST reference documents it and the SDKs parse it (`code` becomes `RestError.code`).
 */
export class KeyVaultError extends Error {
  override readonly name = 'KeyVaultError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; innererror?: { code: string } } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.innerCode === undefined ? {} : { innererror: { code: this.innerCode } }),
      },
    };
  }
}

/** The link Key Vault puts into its not-found messages. */
const recoveryHelp =
  'If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

/** 404 `SecretNotFound`, worded as Key Vault words it for a secret or a version. */
export function secretNotFound(nameOrId: string): KeyVaultError {
  return new KeyVaultError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${nameOrId} was not found in this key vault. ${recoveryHelp}`,
  );
}

/** 404 for the deleted-secrets collection. */
export function deletedSecretNotFound(name: string): KeyVaultError {
  return new KeyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
}

/** 400 `BadParameter`, what Key Vault answers to a malformed request. */
export function badParameter(message: string): KeyVaultError {
  return new KeyVaultError(400, 'BadParameter', message);
}
