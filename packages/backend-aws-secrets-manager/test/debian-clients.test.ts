import { awsCli, awsCliJson, independentAwsClients, runBoto3 } from '@coffer/aws-store-kit/testing';
import type { AwsSecretsManagerBackend } from '@coffer/backend-aws-secrets-manager';
import type { StoreDoubleHandle } from '@coffer/backend-aws-secrets-manager/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

// The double driven by clients nobody here wrote: Debian's awscli and boto3. They sign with
// botocore's SigV4 and parse the answers with botocore's model of Secrets Manager, so a double
// that strays from the wire protocol fails here.
const { cli: cliPresent, boto3: botoPresent } = await independentAwsClients();

const cli = (double: StoreDoubleHandle, args: string[], extra: Record<string, string> = {}) =>
  awsCli(double, 'secretsmanager', args, extra);
const cliJson = (double: StoreDoubleHandle, args: string[]) => awsCliJson(double, 'secretsmanager', args);

// each awscli run starts a Python interpreter: a few seconds apiece on a busy machine
describe.skipIf(!cliPresent)('the double through awscli (independent client)', { timeout: 120_000 }, () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { clusterPrefix: 'debian' });
    double = made.double;
  });
  afterAll(() => made?.close());

  it('creates, reads, updates, lists with pagination and deletes', async () => {
    const created = await cliJson(double, [
      'create-secret',
      '--name',
      'cli/one',
      '--secret-string',
      '{"user":"alice","n":1}',
      '--tags',
      'Key=team,Value=blue',
    ]);
    expect(created.Name).toBe('cli/one');
    expect(String(created.ARN)).toMatch(
      /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:cli\/one-[A-Za-z0-9]{6}$/,
    );
    const got = await cliJson(double, ['get-secret-value', '--secret-id', 'cli/one']);
    expect(JSON.parse(String(got.SecretString))).toEqual({ user: 'alice', n: 1 });
    expect(got.VersionStages).toEqual(['AWSCURRENT']);

    const put = await cliJson(double, [
      'put-secret-value',
      '--secret-id',
      'cli/one',
      '--secret-string',
      '{"user":"alice","n":2}',
    ]);
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    const previous = await cliJson(double, [
      'get-secret-value',
      '--secret-id',
      'cli/one',
      '--version-stage',
      'AWSPREVIOUS',
    ]);
    expect(JSON.parse(String(previous.SecretString))).toEqual({ user: 'alice', n: 1 });
    const byId = await cliJson(double, [
      'get-secret-value',
      '--secret-id',
      'cli/one',
      '--version-id',
      String(created.VersionId),
    ]);
    expect(byId.VersionStages).toEqual(['AWSPREVIOUS']);

    const versions = await cliJson(double, ['list-secret-version-ids', '--secret-id', 'cli/one']);
    expect((versions.Versions as unknown[]).length).toBe(2);

    // a custom staging label moved by update-secret-version-stage
    await cliJson(double, [
      'update-secret-version-stage',
      '--secret-id',
      'cli/one',
      '--version-stage',
      'blue',
      '--move-to-version-id',
      String(created.VersionId),
    ]);
    const described = await cliJson(double, ['describe-secret', '--secret-id', 'cli/one']);
    expect((described.VersionIdsToStages as Record<string, string[]>)[String(created.VersionId)]).toEqual([
      'AWSPREVIOUS',
      'blue',
    ]);
    expect(described.Tags).toEqual([{ Key: 'team', Value: 'blue' }]);

    for (let i = 0; i < 7; i++) {
      await cliJson(double, ['create-secret', '--name', `cli/page-${i}`, '--secret-string', `{"i":${i}}`]);
    }
    // awscli follows NextToken itself; --page-size makes it take pages of 3
    const listed = await cliJson(double, [
      'list-secrets',
      '--filters',
      'Key=name,Values=cli/page-',
      '--page-size',
      '3',
    ]);
    expect((listed.SecretList as { Name: string }[]).map((s) => s.Name).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => `cli/page-${i}`),
    );
    const firstPage = await cliJson(double, [
      'list-secrets',
      '--filters',
      'Key=name,Values=cli/page-',
      '--max-items',
      '3',
    ]);
    expect((firstPage.SecretList as unknown[]).length).toBe(3);
    expect(typeof firstPage.NextToken).toBe('string');
    const rest = await cliJson(double, [
      'list-secrets',
      '--filters',
      'Key=name,Values=cli/page-',
      '--starting-token',
      String(firstPage.NextToken),
    ]);
    expect((rest.SecretList as unknown[]).length).toBe(4);

    const deleted = await cliJson(double, [
      'delete-secret',
      '--secret-id',
      'cli/one',
      '--recovery-window-in-days',
      '7',
    ]);
    expect(typeof deleted.DeletionDate).toBe('string');
    const marked = await cli(double, ['get-secret-value', '--secret-id', 'cli/one']);
    expect(marked.code).not.toBe(0);
    expect(marked.stderr).toContain('InvalidRequestException');
    await cliJson(double, ['restore-secret', '--secret-id', 'cli/one']);
    await cliJson(double, ['delete-secret', '--secret-id', 'cli/one', '--force-delete-without-recovery']);
    const gone = await cli(double, ['describe-secret', '--secret-id', 'cli/one']);
    expect(gone.stderr).toContain('ResourceNotFoundException');
  });

  it('answers errors the way the service does', async () => {
    const missing = await cli(double, ['get-secret-value', '--secret-id', 'cli/none']);
    expect(missing.code).toBe(254);
    expect(missing.stderr).toContain('ResourceNotFoundException');
    await cliJson(double, ['create-secret', '--name', 'cli/dup', '--secret-string', 'x']);
    const dup = await cli(double, ['create-secret', '--name', 'cli/dup', '--secret-string', 'y']);
    expect(dup.stderr).toContain('ResourceExistsException');
    const window = await cli(double, [
      'delete-secret',
      '--secret-id',
      'cli/dup',
      '--recovery-window-in-days',
      '3',
    ]);
    expect(window.stderr).toContain('InvalidParameterException');
    const big = await cli(double, [
      'put-secret-value',
      '--secret-id',
      'cli/dup',
      '--secret-string',
      'x'.repeat(65_537),
    ]);
    expect(big.code).not.toBe(0);
    const wrongKey = await cli(double, ['list-secrets'], { AWS_SECRET_ACCESS_KEY: 'wrong-secret-key' });
    expect(wrongKey.stderr).toContain('InvalidSignatureException');
    const unknownKey = await cli(double, ['list-secrets'], { AWS_ACCESS_KEY_ID: 'AKIANOBODY0000000000' });
    expect(unknownKey.stderr).toContain('UnrecognizedClientException');
    const region = await cli(double, ['list-secrets', '--region', 'eu-west-1']);
    expect(region.stderr).toContain('InvalidSignatureException');
    const denied = await cli(double, ['create-secret', '--name', 'cli/ro', '--secret-string', 'x'], {
      AWS_ACCESS_KEY_ID: double.faults.readOnlyCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: double.faults.readOnlyCredentials.secretAccessKey,
    });
    expect(denied.stderr).toContain('AccessDeniedException');
  });

  it('reads what the Coffer backend wrote as the values JSON, and serves Coffer what awscli wrote', async () => {
    const backend: AwsSecretsManagerBackend = made.backend;
    const secretId = '3f1b7c2e-9a4d-4e8f-b1c2-d3e4f5a6b7c8';
    await backend.put({ secretId, version: 1 }, { password: 'p-ä€😀', port: 25, tls: true });
    await backend.put({ secretId, version: 2 }, { password: 'second' });
    const name = `debian/${secretId}`;
    const v1 = await cliJson(double, [
      'get-secret-value',
      '--secret-id',
      name,
      '--version-stage',
      'coffer-v1',
    ]);
    expect(JSON.parse(String(v1.SecretString))).toEqual({ password: 'p-ä€😀', port: 25, tls: true });
    const current = await cliJson(double, ['get-secret-value', '--secret-id', name]);
    expect(current.VersionStages).toEqual(expect.arrayContaining(['coffer-v2', 'AWSCURRENT']));
    const described = await cliJson(double, ['describe-secret', '--secret-id', name]);
    expect(described.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'coffer-deployment', Value: made.deploymentId },
        { Key: 'coffer-cluster', Value: 'debian' },
        { Key: 'coffer-secret-id', Value: secretId },
      ]),
    );

    // awscli writes a new value under Coffer's label; Coffer reads it
    await cliJson(double, [
      'put-secret-value',
      '--secret-id',
      name,
      '--secret-string',
      '{"password":"from awscli","port":587}',
      '--version-stages',
      'coffer-v3',
    ]);
    expect(await backend.get({ secretId, version: 3 })).toEqual({ password: 'from awscli', port: 587 });
    expect(await backend.list({ secretId })).toEqual([1, 2, 3].map((version) => ({ secretId, version })));
  });
});

describe.skipIf(!botoPresent)('the double through boto3 (independent client)', { timeout: 60_000 }, () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { clusterPrefix: 'boto' });
  });
  afterAll(() => made?.close());

  it('creates, reads, updates, paginates, deletes, and reads what Coffer wrote', async () => {
    const secretId = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
    await made.backend.put({ secretId, version: 1 }, { token: 'coffer-wrote-this', n: 7 });
    const script = `
import json, os, sys, boto3, botocore
c = boto3.client('secretsmanager', endpoint_url=os.environ['DOUBLE_URL'])
out = {}
c.create_secret(Name='boto/a', SecretString='{"k":"v1"}', Tags=[{'Key':'t','Value':'1'}])
c.put_secret_value(SecretId='boto/a', SecretString='{"k":"v2"}')
out['current'] = json.loads(c.get_secret_value(SecretId='boto/a')['SecretString'])
out['previous'] = json.loads(c.get_secret_value(SecretId='boto/a', VersionStage='AWSPREVIOUS')['SecretString'])
for i in range(5):
    c.create_secret(Name='boto/p%d' % i, SecretString='x')
pages = c.get_paginator('list_secrets').paginate(Filters=[{'Key':'name','Values':['boto/p']}], PaginationConfig={'PageSize': 2})
sizes = [len(p['SecretList']) for p in pages]
out['pageSizes'] = sizes
coffer = c.get_secret_value(SecretId='boto/${secretId}', VersionStage='coffer-v1')
out['coffer'] = json.loads(coffer['SecretString'])
c.put_secret_value(SecretId='boto/${secretId}', SecretString='{"token":"boto-wrote-this"}', VersionStages=['coffer-v2'])
try:
    c.get_secret_value(SecretId='boto/none')
except botocore.exceptions.ClientError as e:
    out['missing'] = e.response['Error']['Code']
try:
    c.delete_secret(SecretId='boto/a', RecoveryWindowInDays=10, ForceDeleteWithoutRecovery=True)
except botocore.exceptions.ClientError as e:
    out['both'] = e.response['Error']['Code']
r = c.delete_secret(SecretId='boto/a', ForceDeleteWithoutRecovery=True)
out['deleted'] = r['Name']
try:
    c.describe_secret(SecretId='boto/a')
except botocore.exceptions.ClientError as e:
    out['afterDelete'] = e.response['Error']['Code']
print(json.dumps(out))
`;
    const out = await runBoto3(made.double, script);
    expect(out).toEqual({
      current: { k: 'v2' },
      previous: { k: 'v1' },
      pageSizes: [2, 2, 1],
      coffer: { token: 'coffer-wrote-this', n: 7 },
      missing: 'ResourceNotFoundException',
      both: 'InvalidParameterException',
      deleted: 'boto/a',
      afterDelete: 'ResourceNotFoundException',
    });
    expect(await made.backend.get({ secretId, version: 2 })).toEqual({ token: 'boto-wrote-this' });
  });
});
