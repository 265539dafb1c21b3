import {
  type AwsServiceErrors,
  classifyAwsError as classifyWith,
  type AwsFailure as KitFailure,
} from '@coffer/aws-store-kit';

/** What a failed call to Secrets Manager means: which reason, the vendor's code, whether to retry. */
export type AwsFailure = KitFailure<'marked_for_deletion'>;

/**
 * How Secrets Manager's errors are told apart: a missing secret or version, and a secret that is
 * pending deletion (InvalidRequestException saying so), which Coffer restores or waits out.
 */
export const secretsManagerServiceErrors: AwsServiceErrors<'marked_for_deletion'> = {
  notFound: new Set(['ResourceNotFoundException']),
  special: (name, message) =>
    name === 'InvalidRequestException' && /marked for deletion|scheduled for deletion/i.test(message)
      ? 'marked_for_deletion'
      : undefined,
};

/**
 * Classifies whatever a Secrets Manager call threw (the AWS store kit's rules with Secrets
 * Manager's codes); nothing of the error leaves it except the vendor code.
 *
 * @example
 * classifyAwsError(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).retry; // true
 */
export function classifyAwsError(err: unknown): AwsFailure {
  return classifyWith(err, secretsManagerServiceErrors);
}
