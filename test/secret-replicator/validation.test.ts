import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MINIMAL_PROPS, newStack, synth } from './util';
import { CrossRegionSecretReplicator, CrossRegionSecretReplicatorProps } from '../../src';
import { at } from '../core/messages';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE_ARN = 'arn:aws:iam::444455556666:role/replica-writer';

/** Builds a replicator with `overrides` and returns the construction error. */
function failure(overrides: Partial<CrossRegionSecretReplicatorProps>, stack: Stack = newStack()): () => void {
  return () => new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...overrides });
}

describe('CrossRegionSecretReplicator stack', () => {
  test('fails if the stack is environment-agnostic', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(failure({}, stack)).toThrow(at('Agnostic/Replicator',
      'CrossRegionSecretReplicator needs a stack with an explicit region (env.region), but got an environment-agnostic stack'));
  });

  test('fails if the stack region is not an AWS region', () => {
    expect(failure({}, newStack(new App(), 'moon-1'))).toThrow(at('TestStack/Replicator',
      'the stack region must be an AWS region name such as "eu-west-1", but got "moon-1"'));
  });
});

describe('CrossRegionSecretReplicator replicaRegions', () => {
  test('fails if replicaRegions is empty', () => {
    expect(failure({ replicaRegions: [] })).toThrow(at('TestStack/Replicator', 'replicaRegions must not be empty, but got []'));
  });

  test('fails if replicaRegions contains something other than a region name', () => {
    expect(failure({ replicaRegions: ['eu-west-1', 'moon-1'] })).toThrow(at('TestStack/Replicator',
      'replicaRegions must contain only AWS region names such as "eu-west-1", but got "moon-1"'));
  });

  test('fails if replicaRegions contains duplicates', () => {
    expect(failure({ replicaRegions: ['eu-west-1', 'eu-west-1'] })).toThrow(at('TestStack/Replicator',
      'replicaRegions must not contain duplicates, but got ["eu-west-1","eu-west-1"]'));
  });

  test('fails if replicaRegions contains the primary region', () => {
    expect(failure({ replicaRegions: ['us-east-1'] })).toThrow(at('TestStack/Replicator', 'replicaRegions must not contain the primary region, but got ["us-east-1"]'));
  });

  test('fails if replicaRegions contains a region of another partition', () => {
    expect(failure({ replicaRegions: ['cn-north-1'] })).toThrow(at('TestStack/Replicator',
      'replicaRegions must contain only regions of the primary region\'s partition "aws", but got "cn-north-1"'));
  });
});

describe('CrossRegionSecretReplicator replicaKmsKeys', () => {
  test('fails if a key is for a region that is not a replica region', () => {
    expect(failure({ replicaKmsKeys: [{ region: 'eu-central-1', aliasName: 'alias/secrets' }] })).toThrow(at('TestStack/Replicator',
      'replicaKmsKeys[0].region must be one of replicaRegions ["eu-west-1"], but got "eu-central-1"'));
  });

  test('fails if a key sets neither keyArn nor aliasName', () => {
    expect(failure({ replicaKmsKeys: [{ region: 'eu-west-1' }] })).toThrow(at('TestStack/Replicator',
      'replicaKmsKeys[0] must set exactly one of keyArn and aliasName, but got {"region":"eu-west-1"}'));
  });

  test('fails if a key sets both keyArn and aliasName', () => {
    const key = { region: 'eu-west-1', keyArn: `arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}`, aliasName: 'alias/secrets' };
    expect(failure({ replicaKmsKeys: [key] })).toThrow(at('TestStack/Replicator',
      `replicaKmsKeys[0] must set exactly one of keyArn and aliasName, but got ${JSON.stringify(key)}`));
  });

  test('fails if keyArn is a key of another region', () => {
    expect(failure({ replicaKmsKeys: [{ region: 'eu-west-1', keyArn: `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}` }] })).toThrow(at('TestStack/Replicator',
      `replicaKmsKeys[0].keyArn must be the ARN of a KMS key in eu-west-1 such as "arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}", `
      + `but got "arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}"`));
  });

  test('fails if keyArn is an alias ARN', () => {
    expect(failure({ replicaKmsKeys: [{ region: 'eu-west-1', keyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/secrets' }] })).toThrow(at('TestStack/Replicator',
      `replicaKmsKeys[0].keyArn must be the ARN of a KMS key in eu-west-1 such as "arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}", `
      + 'but got "arn:aws:kms:eu-west-1:111122223333:alias/secrets"'));
  });

  test('fails if aliasName does not start with alias/', () => {
    expect(failure({ replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'secrets' }] })).toThrow(at('TestStack/Replicator',
      'replicaKmsKeys[0].aliasName must be a KMS alias name starting with "alias/" such as "alias/secrets", but got "secrets"'));
  });

  test('fails if aliasName names another service\'s AWS managed key', () => {
    expect(failure({ replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/aws/s3' }] })).toThrow(at('TestStack/Replicator',
      'replicaKmsKeys[0].aliasName must be a customer managed key alias or "alias/aws/secretsmanager", but got "alias/aws/s3"'));
  });

  test('fails if two keys name the same region', () => {
    expect(failure({
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/a' }, { region: 'eu-west-1', aliasName: 'alias/b' }],
    })).toThrow(at('TestStack/Replicator', 'replicaKmsKeys must not name a region twice, but got ["eu-west-1","eu-west-1"]'));
  });
});

describe('CrossRegionSecretReplicator crossAccountReplicas', () => {
  test('fails if a cross-account region is not an AWS region', () => {
    expect(failure({ crossAccountReplicas: [{ region: 'moon-1', roleArn: ROLE_ARN }] })).toThrow(at('TestStack/Replicator',
      'crossAccountReplicas[0].region must be an AWS region name such as "eu-west-1", but got "moon-1"'));
  });

  test('fails if a cross-account region is in another partition', () => {
    expect(failure({ crossAccountReplicas: [{ region: 'us-gov-west-1', roleArn: ROLE_ARN }] })).toThrow(at('TestStack/Replicator',
      'crossAccountReplicas[0].region must be a region of the primary region\'s partition "aws", but got "us-gov-west-1"'));
  });

  test('fails if roleArn is not an IAM role ARN', () => {
    expect(failure({ crossAccountReplicas: [{ region: 'eu-west-1', roleArn: 'replica-writer' }] })).toThrow(at('TestStack/Replicator',
      'crossAccountReplicas[0].roleArn must be an IAM role ARN such as "arn:aws:iam::111122223333:role/secret-replica-writer", but got "replica-writer"'));
  });

  test('fails if a cross-account replica sets both keyArn and aliasName', () => {
    const replica = { region: 'eu-west-1', roleArn: ROLE_ARN, keyArn: `arn:aws:kms:eu-west-1:444455556666:key/${KEY_ID}`, aliasName: 'alias/x' };
    expect(failure({ crossAccountReplicas: [replica] })).toThrow(at('TestStack/Replicator',
      `crossAccountReplicas[0] must set at most one of keyArn and aliasName, but got ${JSON.stringify(replica)}`));
  });

  test('fails if a cross-account keyArn is a key of another region', () => {
    expect(failure({
      crossAccountReplicas: [{ region: 'eu-west-1', roleArn: ROLE_ARN, keyArn: `arn:aws:kms:us-west-2:444455556666:key/${KEY_ID}` }],
    })).toThrow(at('TestStack/Replicator', `crossAccountReplicas[0].keyArn must be the ARN of a KMS key in eu-west-1 such as "arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}", `
      + `but got "arn:aws:kms:us-west-2:444455556666:key/${KEY_ID}"`));
  });

  test('fails if a cross-account replica writes to the primary region of this account', () => {
    const stack = new Stack(new App(), 'TestStack', { env: { region: 'us-east-1', account: '444455556666' } });
    const replica = { region: 'us-east-1', roleArn: ROLE_ARN };
    expect(failure({ crossAccountReplicas: [replica] }, stack)).toThrow(at('TestStack/Replicator',
      'crossAccountReplicas[0] must not write to the primary region of this account (that would overwrite the primary secrets), '
      + `but got ${JSON.stringify(replica)}`));
  });

  test('fails if the same region and role appear twice', () => {
    const replica = { region: 'eu-west-1', roleArn: ROLE_ARN };
    expect(failure({ crossAccountReplicas: [replica, replica] })).toThrow(at('TestStack/Replicator',
      `crossAccountReplicas must not contain the same region and roleArn twice, but got ${JSON.stringify([replica, replica])}`));
  });

  test('accepts a cross-account replica in the primary region', () => {
    expect(failure({ crossAccountReplicas: [{ region: 'us-east-1', roleArn: ROLE_ARN }] })).not.toThrow();
  });
});

describe('CrossRegionSecretReplicator deletionRecoveryWindow', () => {
  test('fails if deletionRecoveryWindow is shorter than 7 days', () => {
    expect(failure({ propagateDeletions: true, deletionRecoveryWindow: Duration.days(3) })).toThrow(at('TestStack/Replicator',
      'deletionRecoveryWindow must be a whole number of days from 7 to 30, but got "3 days"'));
  });

  test('fails if deletionRecoveryWindow is longer than 30 days', () => {
    expect(failure({ propagateDeletions: true, deletionRecoveryWindow: Duration.days(31) })).toThrow(at('TestStack/Replicator',
      'deletionRecoveryWindow must be a whole number of days from 7 to 30, but got "31 days"'));
  });

  test('fails if deletionRecoveryWindow is not a whole number of days', () => {
    expect(failure({ propagateDeletions: true, deletionRecoveryWindow: Duration.hours(180) })).toThrow(at('TestStack/Replicator',
      'deletionRecoveryWindow must be a whole number of days from 7 to 30, but got "7 days 12 hours"'));
  });
});

describe('CrossRegionSecretReplicator parameterPrefix', () => {
  test('fails if parameterPrefix does not start with a slash', () => {
    expect(failure({ parameterPrefix: 'my-app/production' })).toThrow(at('TestStack/Replicator',
      'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "my-app/production"'));
  });

  test('fails if parameterPrefix ends with a slash', () => {
    expect(failure({ parameterPrefix: '/my-app/' })).toThrow(at('TestStack/Replicator',
      'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "/my-app/"'));
  });

  test('fails if parameterPrefix has an empty segment or another character', () => {
    expect(failure({ parameterPrefix: '/my app//x' })).toThrow(at('TestStack/Replicator',
      'parameterPrefix must be "/"-separated segments of the characters A-Z a-z 0-9 _ . -, such as "/my-app/production", but got "/my app//x"'));
  });

  test('fails if parameterPrefix starts with a reserved name', () => {
    expect(failure({ parameterPrefix: '/aws/app' })).toThrow(at('TestStack/Replicator',
      'parameterPrefix must not start with the reserved "/aws" or "/ssm", but got "/aws/app"'));
  });

  test('fails if parameterPrefix is under the library\'s settings-document root', () => {
    expect(failure({ parameterPrefix: '/cdk-cross-region-config/app' })).toThrow(at('TestStack/Replicator',
      'parameterPrefix must not be under "/cdk-cross-region-config", where the library keeps its handlers\' settings documents, but got "/cdk-cross-region-config/app"'));
  });
});

describe('CrossRegionSecretReplicator metricNamespace', () => {
  test('fails if metricNamespace is empty', () => {
    expect(failure({ metricNamespace: '' })).toThrow(at('TestStack/Replicator', 'metricNamespace must be 1 to 255 characters long (0 received), but got ""'));
  });

  test('fails if metricNamespace starts with AWS/', () => {
    expect(failure({ metricNamespace: 'AWS/Secrets' })).toThrow(at('TestStack/Replicator', 'metricNamespace must not start with the reserved "AWS/", but got "AWS/Secrets"'));
  });

  test('fails if metricNamespace has a character CloudWatch does not allow', () => {
    expect(failure({ metricNamespace: 'My$App' })).toThrow(at('TestStack/Replicator',
      'metricNamespace must contain only the characters A-Z a-z 0-9 . - _ / # : and spaces, but got "My$App"'));
  });
});

describe('CrossRegionSecretReplicator handler options', () => {
  test('fails if memorySize is below Lambda\'s minimum', () => {
    expect(failure({ memorySize: 64 })).toThrow(at('TestStack/Replicator', 'memorySize must be an integer from 128 to 10240 MiB, but got 64'));
  });

  test('fails if timeout exceeds 15 minutes', () => {
    expect(failure({ timeout: Duration.minutes(20) })).toThrow(at('TestStack/Replicator', 'timeout must be a whole number of seconds from 1 to 900, but got "20 minutes"'));
  });

  test('fails if vpcSubnets is set without vpc', () => {
    expect(failure({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } })).toThrow(at('TestStack/Replicator',
      'vpc must be set when vpcSubnets or securityGroups is set, but got undefined'));
  });
});

describe('CrossRegionSecretReplicator metrics', () => {
  test('fails if a metric is asked for a region that is not replicated to', () => {
    const { replicator } = synth();
    expect(() => replicator.metricReplicatedSecrets({ replicaRegion: 'us-west-2' })).toThrow(at('TestStack/Replicator',
      'replicaRegion must be one of the replica regions ["eu-west-1"], but got "us-west-2"'));
  });
});
