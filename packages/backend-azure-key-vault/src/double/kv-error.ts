import { KeyVaultError } from '@coffer/azure-kit/double';

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
