import { runDoubleMain as runAnyDoubleMain } from '@coffer/core/doubles';
import type { AwsDoubleOptions, AwsStoreDoubleHandle } from './aws-double.js';

/** The line above the environment an AWS double prints: what reads it. */
export const awsEnvironmentHeading = 'Environment for the AWS credential chain:';

/**
 * The body of an AWS store double's `main.ts` (`runDoubleMain` of `@coffer/core/doubles`): the
 * backend settings of `type`, and the environment for the AWS credential chain.
 *
 * @example
 * await runDoubleMain({ title: 'AWS SSM Parameter Store', type: 'aws-ssm', start: startStoreDouble });
 */
export function runDoubleMain(options: {
  /** The service's name in the first line printed. */
  title: string;
  /** The backend type the printed settings are for. */
  type: string;
  start(options: AwsDoubleOptions): Promise<AwsStoreDoubleHandle>;
  argv?: readonly string[];
}): Promise<void> {
  return runAnyDoubleMain({
    start: options.start,
    title: (double) => `${options.title} double listening on ${double.url}`,
    settings: (double) => ({
      heading: 'Backend settings for Coffer (backends.<name>):',
      value: { type: options.type, ...double.settings },
    }),
    environment: awsEnvironmentHeading,
    ...(options.argv === undefined ? {} : { argv: options.argv }),
  });
}
