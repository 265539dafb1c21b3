import type { AwsServiceErrors } from '@coffer/aws-store-kit';

/** How Parameter Store's errors are told apart: its not-found codes. */
export const ssmServiceErrors: AwsServiceErrors = {
  notFound: new Set(['ParameterNotFound', 'ParameterVersionNotFound', 'InvalidResourceId']),
};
