export {
  type Actor,
  type AuditSource,
  asGroup,
  asToken,
  asUser,
  type PrincipalRef,
  type ResolvedActor,
  type Role,
  type TokenScope,
} from './actor.js';
export type { ActorResolver } from './actor-resolver.js';
export { type GroupService, systemGroupName } from './group-service.js';
export { bootstrapAdminUsername } from './identity-bootstrap.js';
export type { SessionPolicy } from './identity-context.js';
export {
  createIdentityService,
  defaultSessionPolicy,
  type IdentityService,
  type IdentityServiceOptions,
} from './identity-service.js';
export type {
  AuthContext,
  BootstrapOptions,
  BootstrapResult,
  CreatedSession,
  CreatedToken,
  CreateGroupInput,
  CreateSessionOptions,
  CreateTokenInput,
  CreateUserInput,
  Group,
  GroupMember,
  GroupWithMembers,
  ListGroupsRequest,
  ListTokensRequest,
  ListUsersRequest,
  LoginResult,
  SetPasswordInput,
  TokenInfo,
  TokenState,
  UpdateGroupInput,
  UpdateUserInput,
  User,
  UserType,
} from './identity-types.js';
export {
  assertPasswordPolicy,
  createPasswordHasher,
  generatePassword,
  maxPasswordLength,
  minPasswordLength,
  owaspArgon2idParameters,
  type PasswordHasher,
  type PasswordHashParameters,
} from './password-hasher.js';
export type { SessionService } from './session-service.js';
export { pkceMatches, type SsoService, ssoRefusalError, ssoUsername } from './sso-service.js';
export {
  type PasswordLoginPolicy,
  passwordLoginPolicies,
  type RedeemedSsoHandoff,
  type SsoClaims,
  type SsoHandoffRedeemInput,
  type SsoLoginResult,
  type SsoPolicy,
  type SsoRefusal,
  type SsoRequest,
  type SsoRequestInput,
} from './sso-types.js';
export type { TokenService } from './token-service.js';
export type { UserService } from './user-service.js';
