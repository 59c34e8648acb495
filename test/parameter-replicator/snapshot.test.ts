import { Template } from 'aws-cdk-lib/assertions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { newStack } from './util';
import { ConflictPolicy, CrossRegionParameterReplicator, ParameterOverride, ParameterSelection } from '../../src';

/** Replaces asset hashes (which change with every handler change) with a placeholder. */
function withoutAssetHashes(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[0-9a-f]{64}/g, '<asset hash>');
  if (Array.isArray(value)) return value.map(withoutAssetHashes);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutAssetHashes(v)]));
  }
  return value;
}

test('synthesizes the representative stack of the snapshot', () => {
  const stack = newStack();
  new CrossRegionParameterReplicator(stack, 'Replicator', {
    parameters: ParameterSelection.fromPaths(['/app/prod', '/shared'], { excludedPaths: ['/app/prod/local'] }),
    replicaRegions: ['eu-west-1', 'ap-southeast-1'],
    replicaKmsKeys: [
      { region: 'eu-west-1', aliasName: 'alias/parameters' },
      { region: 'ap-southeast-1', keyArn: 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
    ],
    replicaTier: ssm.ParameterTier.INTELLIGENT_TIERING,
    overrides: [ParameterOverride.template('/app/prod/api-endpoint', 'https://api.{region}.example.com')],
    crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/parameter-writer' }],
    conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
    propagateDeletions: true,
    parameterPrefix: '/app/production',
  });
  const template = Template.fromStack(stack).toJSON();
  expect(JSON.stringify(template)).toMatch(/[0-9a-f]{64}/);
  expect(withoutAssetHashes(template)).toMatchSnapshot();
});
