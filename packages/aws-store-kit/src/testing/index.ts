// Test support shared by the AWS store packages' suites, loaded from sources only (the `source`
// export condition): the AWS environment a double needs, the independent Debian clients
// (awscli, boto3) that keep the doubles honest, and the engine-level failure suites.
export {
  awsCli,
  awsCliJson,
  awsCliPath,
  type CliResult,
  clientEnv,
  debianPython,
  everythingIn,
  independentAwsClients,
  type ReachableDouble,
  rejectionOf,
  runBoto3,
  sdkSettingsFor,
  useAwsEnv,
} from './aws-testing.js';
export { type CredentialFailureDouble, describeCredentialFailures } from './credential-failures.js';
export {
  describeEngineFaults,
  type EngineFaultContext,
  type EngineStore,
  type FaultableDouble,
  startFailure,
  storeFixture,
} from './engine-faults.js';
