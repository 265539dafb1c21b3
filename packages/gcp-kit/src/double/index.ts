export { listenLocally, type RunningServer } from '@coffer/core/doubles';
export { type DoubleMainOptions, type RunnableDouble, runDoubleMain } from './double-main.js';
export { doublePrincipal, doubleProjectNumber, ExternalAccountFiles } from './external-account.js';
export { type FaultAction, FaultPlan } from './fault-plan.js';
export { GoogleApiError, httpStatusOf, quotaDetails, retryInfo } from './google-error.js';
export {
  type DoublePrincipal,
  type GoogleRequest,
  type GoogleRestServerOptions,
  type GoogleRoute,
  type RecordedAnswer,
  type RouteMatch,
  startGoogleRestServer,
} from './google-rest-server.js';
export { MinuteQuotas } from './quota-throttle.js';
