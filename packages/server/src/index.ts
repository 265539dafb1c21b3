// The public surface of @coffer/server, listed by name.

export {
  type CofferAuth,
  createAuthenticator,
  type HostAuthenticate,
} from './auth/authenticator.js';
export { csrfTokenFor } from './auth/csrf.js';
export { defaultLoginThrottle, type LoginThrottleSettings } from './auth/login-throttle.js';
export { type CookiePolicy, defaultCookiePolicy } from './auth/session-cookies.js';
export { configFileVariable, loadServerConfig } from './config/load-server-config.js';
export {
  configFileSchema,
  type EnvSetting,
  envSettings,
  type ServerConfig,
  type ServerSettings,
  serverSettingsSchema,
} from './config/server-config.js';
export {
  builtinConnectionTesters,
  type ConnectionTestResult,
  runConnectionTest,
} from './connection-tests/connection-test-registry.js';
export type {
  ConnectionTestContext,
  ConnectionTester,
  ConnectionTesterRegistry,
  ConnectionTestOutcome,
} from './connection-tests/connection-tester.js';
export { scrubSecrets } from './connection-tests/scrub.js';
export { HttpProblem, httpStatusOf, type Problem, problemOf, problemTitles } from './http/problem.js';
export { type SmtpMailerOptions, smtpMailer } from './mail/smtp-mailer.js';
export { type CofferPluginOptions, cofferPlugin } from './plugin/coffer-plugin.js';
export type { ShareLinkRouteOptions } from './routes/share-link-routes.js';
export {
  apiPrefix,
  type CofferServer,
  type CreateCofferServerOptions,
  createCofferServer,
  vaultPrefix,
} from './server.js';
export { runStandaloneServer } from './standalone.js';
export { vaultListBridge } from './vault-api/list-method-bridge.js';
export { type VaultApiPluginOptions, vaultApiPlugin } from './vault-api/vault-api-plugin.js';
export { serverVersion } from './version.js';
