export { crc32c } from './crc32c.js';
export {
  type AuthFetch,
  type GaxEndpoint,
  GoogleRequestTimeout,
  gaxEndpoint,
  limitRequestTime,
} from './gax-client-settings.js';
export {
  classifyGoogleError,
  type GoogleFailure,
  type GoogleFailureReason,
  type GoogleServiceErrors,
  type GoogleStatus,
  googleRetryVerdict,
} from './google-errors.js';
