/**
 * An error answer of Key Vault's data plane: the HTTP status and the `KeyVaultError` body
 * `{"error":{"code":"SecretNotFound","message":"...","innererror":{"code":"..."}}}`, as the
 * REST reference documents it and the SDKs parse it (`code` becomes `RestError.code`).
 *
 * @example
 * throw new KeyVaultError(403, 'Forbidden', 'Operation is not allowed on a disabled key.', 'KeyDisabled');
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

/** 400 `BadParameter`, what Key Vault answers to a malformed request. */
export function badParameter(message: string): KeyVaultError {
  return new KeyVaultError(400, 'BadParameter', message);
}
