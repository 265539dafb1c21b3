export {
  type AwsCallerOptions,
  type AwsClientLike,
  awsCaller,
  failureKind,
  StoreFailure,
  translateStoreFailures,
} from './aws-caller.js';
export {
  type AwsFailure,
  type AwsServiceErrors,
  awsRetryVerdict,
  classifyAwsError,
} from './aws-errors.js';
