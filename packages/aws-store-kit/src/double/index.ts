export {
  type AwsDoubleFaults,
  type AwsDoubleOptions,
  type AwsServiceProtocol,
  type AwsStoreDoubleHandle,
  awsDoubleDefaults,
  doubleRegionOf,
  type RunningAwsDouble,
  startAwsDouble,
} from './aws-double.js';
export { AwsError } from './aws-error.js';
export { type AwsJsonServerOptions, startAwsJsonServer } from './aws-json-server.js';
export { awsEnvironmentHeading, runDoubleMain } from './double-main.js';
export { type FaultAction, FaultPlan } from './fault-plan.js';
export {
  checkLength,
  constraintError,
  type Json,
  nullMemberError,
  paginate,
  readBoolean,
  readInteger,
  readIntegerIn,
  readObjectList,
  readString,
  readStringList,
} from './json-input.js';
export { QuotaThrottle, type RateQuota } from './quota-throttle.js';
export { type DoubleCredential, type SignedRequest, verifySigV4 } from './sigv4-verifier.js';
