export { AwsError } from './aws-error.js';
export { type AwsJsonServerOptions, startAwsJsonServer } from './aws-json-server.js';
export { type FaultAction, FaultPlan } from './fault-plan.js';
export { QuotaThrottle, type RateQuota } from './quota-throttle.js';
export { type DoubleCredential, type SignedRequest, verifySigV4 } from './sigv4-verifier.js';
