import { awsCli, awsCliJson, independentAwsClients, runBoto3 } from '@coffer/aws-store-kit/testing';
import type { StoreDoubleHandle } from '@coffer/backend-aws-ssm/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

// The double driven by clients nobody here wrote: Debian's awscli and boto3. They sign with
// botocore's SigV4 and parse the answers with botocore's model of Systems Manager, so a double
// that strays from the wire protocol fails here. awscli starts a Python interpreter per call, so
// it does the essentials and boto3 (one process) the rest.
const { cli: cliPresent, boto3: botoPresent } = await independentAwsClients();

const cli = (double: StoreDoubleHandle, args: string[], extra: Record<string, string> = {}) =>
  awsCli(double, 'ssm', args, extra);
const cliJson = (double: StoreDoubleHandle, args: string[]) => awsCliJson(double, 'ssm', args);

const cofferId = '3f1b7c2e-9a4d-4e8f-b1c2-d3e4f5a6b7c8';

describe('the double through awscli and boto3 (independent clients)', { timeout: 120_000 }, () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, clusterPrefix: 'debian' });
    double = made.double;
    await made.backend.put({ secretId: cofferId, version: 1 }, { password: 'p-ä€😀', port: 25, tls: true });
    await made.backend.put({ secretId: cofferId, version: 2 }, { password: 'second' });
  });
  afterAll(() => made?.close());

  it.skipIf(!cliPresent)('awscli puts, overwrites, reads by version, lists by path and deletes', async () => {
    const put = await cliJson(double, [
      'put-parameter',
      '--name',
      '/cli/db/password',
      '--value',
      's3cret',
      '--type',
      'SecureString',
      '--tags',
      'Key=team,Value=blue',
    ]);
    expect(put).toEqual({ Version: 1, Tier: 'Standard' });
    const again = await cliJson(double, [
      'put-parameter',
      '--name',
      '/cli/db/password',
      '--value',
      's3cret-2',
      '--overwrite',
    ]);
    expect(again.Version).toBe(2);
    const first = await cliJson(double, [
      'get-parameter',
      '--name',
      '/cli/db/password:1',
      '--with-decryption',
    ]);
    expect(first.Parameter).toMatchObject({
      Name: '/cli/db/password',
      Type: 'SecureString',
      Value: 's3cret',
      Version: 1,
      Selector: ':1',
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/cli/db/password',
    });
    // awscli follows NextToken itself; --page-size makes it ask for pages of 2 (Coffer's 2 and this one)
    const byPath = await cliJson(double, [
      'get-parameters-by-path',
      '--path',
      '/',
      '--recursive',
      '--page-size',
      '2',
    ]);
    expect((byPath.Parameters as { Name: string }[]).map((p) => p.Name)).toEqual([
      '/cli/db/password',
      `/debian/${cofferId}/v1`,
      `/debian/${cofferId}/v2`,
    ]);
    await cliJson(double, ['delete-parameter', '--name', '/cli/db/password']);
    expect(double.faults.parameterNames()).not.toContain('/cli/db/password');
  });

  it.skipIf(!cliPresent)('awscli gets the errors the service answers', async () => {
    const [missing, duplicate, tooBig, denied] = await Promise.all([
      cli(double, ['get-parameter', '--name', '/cli/none']),
      // Coffer's own parameter exists already
      cli(double, ['put-parameter', '--name', `/debian/${cofferId}/v2`, '--value', 'y', '--type', 'String']),
      cli(double, ['put-parameter', '--name', 'cli-big', '--value', 'x'.repeat(4097), '--type', 'String']),
      cli(double, ['put-parameter', '--name', 'cli-ro', '--value', 'x', '--type', 'String'], {
        AWS_ACCESS_KEY_ID: double.faults.readOnlyCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: double.faults.readOnlyCredentials.secretAccessKey,
      }),
    ]);
    expect(missing.code).toBe(254);
    expect(missing.stderr).toContain('ParameterNotFound');
    expect(duplicate.stderr).toContain('ParameterAlreadyExists');
    expect(tooBig.stderr).toContain('ValidationException');
    expect(denied.stderr).toContain('AccessDeniedException');
  });

  it.skipIf(!cliPresent)('awscli reads what Coffer wrote, and Coffer reads what awscli wrote', async () => {
    const name = `/debian/${cofferId}/v1`;
    const got = await cliJson(double, ['get-parameter', '--name', name, '--with-decryption']);
    expect(JSON.parse(String((got.Parameter as { Value: string }).Value))).toEqual({
      password: 'p-ä€😀',
      port: 25,
      tls: true,
    });
    await cliJson(double, [
      'put-parameter',
      '--name',
      name,
      '--value',
      '{"password":"from awscli","port":587}',
      '--overwrite',
    ]);
    expect(await made.backend.get({ secretId: cofferId, version: 1 })).toEqual({
      password: 'from awscli',
      port: 587,
    });
  });

  it.skipIf(!botoPresent)(
    'boto3 drives tags, selectors, labels, history, paging, quotas and errors',
    async () => {
      const script = `
import json, os, boto3, botocore
c = boto3.client('ssm', endpoint_url=os.environ['DOUBLE_URL'])
out = {}
def code(call):
    try:
        call()
        return None
    except botocore.exceptions.ClientError as e:
        return e.response['Error']['Code']

c.put_parameter(Name='/boto/app/url', Value='https://a', Type='String', Tags=[{'Key':'team','Value':'red'}])
c.put_parameter(Name='/boto/app/key', Value='k1', Type='SecureString', KeyId='alias/coffer-double', Tier='Advanced')
c.put_parameter(Name='/boto/app/deep/list', Value='a,b', Type='StringList')
c.add_tags_to_resource(ResourceType='Parameter', ResourceId='/boto/app/url', Tags=[{'Key':'env','Value':'prod'}])
c.remove_tags_from_resource(ResourceType='Parameter', ResourceId='/boto/app/url', TagKeys=['team'])
out['tags'] = c.list_tags_for_resource(ResourceType='Parameter', ResourceId='/boto/app/url')['TagList']

got = c.get_parameters(Names=['/boto/app/key', '/boto/none'], WithDecryption=True)
out['getParameters'] = [[p['Name'], p['Value']] for p in got['Parameters']] + [got['InvalidParameters']]
sealed = c.get_parameter(Name='/boto/app/key')['Parameter']['Value']
out['sealed'] = sealed != 'k1'

pages = c.get_paginator('get_parameters_by_path').paginate(Path='/boto', Recursive=True, PaginationConfig={'PageSize': 1})
out['recursive'] = [[p['Name'] for p in page['Parameters']] for page in pages]
out['oneLevel'] = [p['Name'] for p in c.get_parameters_by_path(Path='/boto/app')['Parameters']]
out['secureOnly'] = [p['Name'] for p in c.get_parameters_by_path(Path='/boto', Recursive=True, ParameterFilters=[{'Key':'Type','Values':['SecureString']}])['Parameters']]
described = c.describe_parameters(ParameterFilters=[{'Key':'Path','Option':'Recursive','Values':['/boto']}, {'Key':'tag:env','Values':['prod']}])
out['described'] = [[p['Name'], p['Tier']] for p in described['Parameters']]
out['tiers'] = {p['Name']: p['Tier'] for p in c.describe_parameters(ParameterFilters=[{'Key':'Name','Option':'BeginsWith','Values':['/boto/app/k']}])['Parameters']}

c.put_parameter(Name='/boto/app/key', Value='k2', Overwrite=True)
c.label_parameter_version(Name='/boto/app/key', ParameterVersion=1, Labels=['stable'])
out['byLabel'] = c.get_parameter(Name='/boto/app/key:stable', WithDecryption=True)['Parameter']['Value']
out['history'] = [[h['Version'], h['Labels'], h['Tier']] for h in c.get_parameter_history(Name='/boto/app/key')['Parameters']]
out['noVersion'] = code(lambda: c.get_parameter(Name='/boto/app/key:9'))

# 100 versions are kept; a labelled oldest one stops the 101st
for i in range(100):
    c.put_parameter(Name='/boto/many', Value='v%d' % i, Type='String', Overwrite=True)
c.label_parameter_version(Name='/boto/many', ParameterVersion=1, Labels=['pinned'])
out['versionLimit'] = code(lambda: c.put_parameter(Name='/boto/many', Value='more', Overwrite=True))
c.label_parameter_version(Name='/boto/many', ParameterVersion=100, Labels=['pinned'])
c.put_parameter(Name='/boto/many', Value='more', Overwrite=True)
out['oldestGone'] = code(lambda: c.get_parameter(Name='/boto/many:1'))

out['errors'] = {
  'tagsWithOverwrite': code(lambda: c.put_parameter(Name='/boto/app/url', Value='x', Overwrite=True, Tags=[{'Key':'a','Value':'b'}])),
  'unknownKey': code(lambda: c.put_parameter(Name='/boto/k', Value='x', Type='SecureString', KeyId='alias/no-such-key')),
  'advancedTooBig': code(lambda: c.put_parameter(Name='/boto/big', Value='x' * 8193, Type='String', Tier='Advanced')),
  'downgrade': code(lambda: c.put_parameter(Name='/boto/app/key', Value='k3', Overwrite=True, Tier='Standard')),
  'reserved': code(lambda: c.put_parameter(Name='/aws/mine', Value='x', Type='String')),
  'notQualified': code(lambda: c.put_parameter(Name='a/b', Value='x', Type='String')),
  'deep': code(lambda: c.put_parameter(Name='/' + '/'.join(['l'] * 16), Value='x', Type='String')),
  'byPathMax': code(lambda: c.get_parameters_by_path(Path='/boto', MaxResults=11)),
  'badFilter': code(lambda: c.get_parameters_by_path(Path='/boto', ParameterFilters=[{'Key':'Name','Values':['x']}])),
  'badToken': code(lambda: c.get_parameters_by_path(Path='/boto', NextToken='nonsense')),
  'tagMissing': code(lambda: c.list_tags_for_resource(ResourceType='Parameter', ResourceId='/boto/none')),
  'deleteMissing': code(lambda: c.delete_parameter(Name='/boto/none')),
}
other = boto3.client('ssm', endpoint_url=os.environ['DOUBLE_URL'], region_name='eu-west-1')
out['errors']['wrongRegion'] = code(lambda: other.get_parameter(Name='/boto/app/url'))

coffer = c.get_parameter(Name='/debian/${cofferId}/v2', WithDecryption=True)['Parameter']
out['coffer'] = json.loads(coffer['Value'])
c.put_parameter(Name='/debian/${cofferId}/v2', Value='{"password":"boto wrote this"}', Overwrite=True)

deleted = c.delete_parameters(Names=['/boto/app/url', '/boto/app/deep/list', '/boto/none'])
out['deleted'] = [sorted(deleted['DeletedParameters']), deleted['InvalidParameters']]
print(json.dumps(out))
`;
      const out = await runBoto3(double, script);
      expect(out).toEqual({
        tags: [{ Key: 'env', Value: 'prod' }],
        getParameters: [['/boto/app/key', 'k1'], ['/boto/none']],
        sealed: true,
        recursive: [['/boto/app/deep/list'], ['/boto/app/key'], ['/boto/app/url']],
        oneLevel: ['/boto/app/key', '/boto/app/url'],
        secureOnly: ['/boto/app/key'],
        described: [['/boto/app/url', 'Standard']],
        tiers: { '/boto/app/key': 'Advanced' },
        byLabel: 'k1',
        history: [
          [1, ['stable'], 'Advanced'],
          [2, [], 'Advanced'],
        ],
        noVersion: 'ParameterVersionNotFound',
        versionLimit: 'ParameterMaxVersionLimitExceeded',
        oldestGone: 'ParameterVersionNotFound',
        errors: {
          tagsWithOverwrite: 'ValidationException',
          unknownKey: 'InvalidKeyId',
          advancedTooBig: 'ValidationException',
          downgrade: 'ValidationException',
          reserved: 'ValidationException',
          notQualified: 'ValidationException',
          deep: 'HierarchyLevelLimitExceededException',
          byPathMax: 'ValidationException',
          badFilter: 'InvalidFilterKey',
          badToken: 'InvalidNextToken',
          tagMissing: 'InvalidResourceId',
          deleteMissing: 'ParameterNotFound',
          wrongRegion: 'InvalidSignatureException',
        },
        coffer: { password: 'second' },
        deleted: [['/boto/app/deep/list', '/boto/app/url'], ['/boto/none']],
      });
      expect(await made.backend.get({ secretId: cofferId, version: 2 })).toEqual({
        password: 'boto wrote this',
      });
    },
  );
});
