export {
  type AwsCallerOptions,
  type AwsClientLike,
  awsCaller,
  failureKind,
  StoreFailure,
  translateStoreFailures,
} from './aws-caller.js';
export { type AwsConnectionSettings, awsClientSettings, awsConnectionShape } from './aws-client-settings.js';
export {
  type AwsFailure,
  type AwsServiceErrors,
  awsRetryVerdict,
  classifyAwsError,
} from './aws-errors.js';
export { compareRefs, pageOfRefs, RefListing } from './ref-listing.js';
