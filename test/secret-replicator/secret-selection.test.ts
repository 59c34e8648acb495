import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  eventPatternDetail,
  handlerEnvironment,
  newStack,
  PRIMARY,
  resourcesAllowed,
  secretArn,
  statementsAllowing,
  synth,
} from './util';
import { CrossRegionSecretReplicator, SecretSelection } from '../../src';

const REPLICA = 'eu-west-1';

/** `{ prefix }` matcher on the ARN of primary-region secrets, as CloudFormation renders it. */
function arnPrefix(rest: string): unknown {
  return { prefix: secretArn(PRIMARY, rest) };
}

/** The `$or` branches of the rule's pattern, keyed by dotted field name. */
function orBranches(detail: Record<string, any>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const branch of detail.$or as Array<Record<string, Record<string, unknown[]>>>) {
    const [outer] = Object.keys(branch);
    const [inner] = Object.keys(branch[outer]);
    out[`${outer}.${inner}`] = branch[outer][inner];
  }
  return out;
}

describe('SecretSelection.fromNames', () => {
  test('replicates secrets by exact name', () => {
    const { template } = synth({ secrets: SecretSelection.fromNames('app/db', 'app/api') });
    expect(JSON.parse(handlerEnvironment(template).SECRET_SELECTION as string)).toEqual({ rules: [{ names: ['app/db', 'app/api'] }] });
  });

  test('narrows the event rule to the names and their ARNs, in both arn and aRN spellings', () => {
    const { template } = synth({ secrets: SecretSelection.fromNames('app/db') });
    expect(orBranches(eventPatternDetail(template))).toEqual({
      'requestParameters.secretId': ['app/db', arnPrefix('app/db-')],
      'requestParameters.name': ['app/db'],
      'responseElements.arn': [arnPrefix('app/db-')],
      'responseElements.aRN': [arnPrefix('app/db-')],
      'additionalEventData.SecretId': [arnPrefix('app/db-')],
    });
  });

  test('grants reads and replica writes on the names with the random ARN suffix', () => {
    const { template } = synth({ secrets: SecretSelection.fromNames('app/db') });
    expect(resourcesAllowed(template, 'secretsmanager:GetSecretValue')).toContainEqual(secretArn(PRIMARY, 'app/db-??????'));
    expect(resourcesAllowed(template, 'secretsmanager:CreateSecret')).toEqual([secretArn(REPLICA, 'app/db-??????')]);
  });
});

describe('SecretSelection.byNamePrefix', () => {
  test('replicates secrets by name prefix', () => {
    const { template } = synth({ secrets: SecretSelection.byNamePrefix('prod/app/') });
    expect(JSON.parse(handlerEnvironment(template).SECRET_SELECTION as string)).toEqual({ rules: [{ namePrefixes: ['prod/app/'] }] });
  });

  test('narrows the event rule to the prefix on names and ARNs', () => {
    const { template } = synth({ secrets: SecretSelection.byNamePrefix('prod/app/') });
    expect(orBranches(eventPatternDetail(template))).toEqual({
      'requestParameters.secretId': [{ prefix: 'prod/app/' }, arnPrefix('prod/app/')],
      'requestParameters.name': [{ prefix: 'prod/app/' }],
      'responseElements.arn': [arnPrefix('prod/app/')],
      'responseElements.aRN': [arnPrefix('prod/app/')],
      'additionalEventData.SecretId': [arnPrefix('prod/app/')],
    });
  });

  test('grants reads and replica writes on the prefix', () => {
    const { template } = synth({ secrets: SecretSelection.byNamePrefix('prod/app/') });
    expect(resourcesAllowed(template, 'secretsmanager:GetSecretValue')).toContainEqual(secretArn(PRIMARY, 'prod/app/*'));
    expect(resourcesAllowed(template, 'secretsmanager:CreateSecret')).toEqual([secretArn(REPLICA, 'prod/app/*')]);
  });
});

describe('SecretSelection.byTags', () => {
  test('replicates secrets carrying every tag', () => {
    const { template } = synth({ secrets: SecretSelection.byTags({ replicate: 'true', team: 'payments' }) });
    expect(JSON.parse(handlerEnvironment(template).SECRET_SELECTION as string)).toEqual({
      rules: [{ tags: { replicate: 'true', team: 'payments' } }],
    });
  });

  test('cannot narrow the event rule, because events carry no tags', () => {
    const { template } = synth({ secrets: SecretSelection.byTags({ replicate: 'true' }) });
    const detail = eventPatternDetail(template);
    expect(detail.$or).toBeUndefined();
    expect(detail.eventSource).toEqual(['secretsmanager.amazonaws.com']);
  });

  test('reads only secrets carrying every selected tag', () => {
    const { template } = synth({ secrets: SecretSelection.byTags({ replicate: 'true', team: 'payments' }) });
    expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toContainEqual({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Effect: 'Allow',
      Resource: secretArn(PRIMARY, '*'),
      Condition: { StringEquals: { 'secretsmanager:ResourceTag/replicate': 'true', 'secretsmanager:ResourceTag/team': 'payments' } },
    });
  });

  test('writes only replicas carrying the provenance tags of this deployment, and creates them under either reading of request tags', () => {
    const { template, replicator } = synth({ secrets: SecretSelection.byTags({ replicate: 'true' }), propagateDeletions: true });
    const deployment = replicator.deploymentId!;
    expect(deployment).toMatch(/^TestStack\.c8[0-9a-f]{40}$/);
    expect(handlerEnvironment(template).DEPLOYMENT_ID).toBe(deployment);
    const requestTags = {
      'aws:RequestTag/cross-region-config:source-region': PRIMARY,
      'aws:RequestTag/cross-region-config:deployment': deployment,
    };
    const unmanaged = { Null: { 'secretsmanager:ResourceTag/cross-region-config:source-region': 'true' } };
    expect(statementsAllowing(template, 'secretsmanager:CreateSecret')).toEqual([{
      Action: 'secretsmanager:CreateSecret',
      Effect: 'Allow',
      Resource: secretArn(REPLICA, '*'),
      Condition: { StringEquals: requestTags },
    }]);
    // CreateSecret with tags is also authorized as TagResource, on a secret that has no tags yet.
    expect(statementsAllowing(template, 'secretsmanager:TagResource')).toContainEqual({
      Action: 'secretsmanager:TagResource',
      Effect: 'Allow',
      Resource: secretArn(REPLICA, '*'),
      Condition: { StringEquals: requestTags, ...unmanaged },
    });
    // A replica that does not exist yet (or that no replicator manages) may be described.
    expect(statementsAllowing(template, 'secretsmanager:DescribeSecret')).toContainEqual({
      Action: 'secretsmanager:DescribeSecret',
      Effect: 'Allow',
      Resource: secretArn(REPLICA, '*'),
      Condition: unmanaged,
    });
    expect(statementsAllowing(template, 'secretsmanager:UpdateSecret')).toEqual([{
      Action: [
        'secretsmanager:UpdateSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
        'secretsmanager:RestoreSecret',
        'secretsmanager:DeleteSecret',
      ],
      Effect: 'Allow',
      Resource: secretArn(REPLICA, '*'),
      Condition: {
        StringEquals: {
          'secretsmanager:ResourceTag/cross-region-config:source-region': PRIMARY,
          'secretsmanager:ResourceTag/cross-region-config:deployment': deployment,
        },
      },
    }]);
  });

  test('gives two replicators in one primary region different deployment ids', () => {
    const stack = newStack();
    const a = new CrossRegionSecretReplicator(stack, 'A', { secrets: SecretSelection.byTags({ team: 'a' }), replicaRegions: [REPLICA] });
    const b = new CrossRegionSecretReplicator(stack, 'B', { secrets: SecretSelection.byTags({ team: 'b' }), replicaRegions: [REPLICA] });
    expect(a.deploymentId).not.toEqual(b.deploymentId);
  });

  test('sets no deployment id where every replica is named', () => {
    const { template, replicator } = synth({ secrets: SecretSelection.byNamePrefix('app/') });
    expect(replicator.deploymentId).toBeUndefined();
    expect(handlerEnvironment(template).DEPLOYMENT_ID).toBeUndefined();
  });
});

describe('SecretSelection.byNamePrefixAndTags', () => {
  test('replicates secrets by prefix and tags, narrowing the rule by the prefix', () => {
    const { template } = synth({ secrets: SecretSelection.byNamePrefixAndTags('prod/', { replicate: 'true' }) });
    expect(JSON.parse(handlerEnvironment(template).SECRET_SELECTION as string)).toEqual({
      rules: [{ namePrefixes: ['prod/'], tags: { replicate: 'true' } }],
    });
    expect(orBranches(eventPatternDetail(template))['requestParameters.name']).toEqual([{ prefix: 'prod/' }]);
    expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toContainEqual({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Effect: 'Allow',
      Resource: secretArn(PRIMARY, 'prod/*'),
      Condition: { StringEquals: { 'secretsmanager:ResourceTag/replicate': 'true' } },
    });
    expect(resourcesAllowed(template, 'secretsmanager:CreateSecret')).toEqual([secretArn(REPLICA, 'prod/*')]);
  });
});

describe('SecretSelection.fromSecrets', () => {
  test('replicates secrets with a complete ARN by ARN, and others by name', () => {
    const stack = newStack();
    const complete = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Complete',
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf');
    const byName = secretsmanager.Secret.fromSecretNameV2(stack, 'ByName', 'app/by-name');
    new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.fromSecrets(complete, byName),
      replicaRegions: [REPLICA],
    });
    const template = Template.fromStack(stack);
    expect(JSON.parse(handlerEnvironment(template).SECRET_SELECTION as string)).toEqual({
      rules: [{ names: ['app/by-name'], arns: ['arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf'] }],
    });
    expect(orBranches(eventPatternDetail(template))).toEqual({
      'requestParameters.secretId': [
        'app/complete',
        'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf',
        'app/by-name',
        arnPrefix('app/by-name-'),
      ],
      'requestParameters.name': ['app/complete', 'app/by-name'],
      'responseElements.arn': ['arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf', arnPrefix('app/by-name-')],
      'responseElements.aRN': ['arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf', arnPrefix('app/by-name-')],
      'additionalEventData.SecretId': ['arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf', arnPrefix('app/by-name-')],
    });
    expect(resourcesAllowed(template, 'secretsmanager:GetSecretValue')).toEqual(expect.arrayContaining([
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/complete-AbCdEf',
      secretArn(PRIMARY, 'app/by-name-??????'),
    ]));
    expect(resourcesAllowed(template, 'secretsmanager:CreateSecret')).toEqual([
      secretArn(REPLICA, 'app/complete-??????'),
      secretArn(REPLICA, 'app/by-name-??????'),
    ]);
  });

  test('scopes replicas of a secret whose name is only known at deploy time by the provenance tag', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'AppSecret');
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromSecrets(secret), replicaRegions: [REPLICA] });
    const template = Template.fromStack(stack);
    expect(handlerEnvironment(template).SECRET_SELECTION).toEqual({
      'Fn::Join': ['', ['{"rules":[{"arns":["', { Ref: expect.stringMatching(/^AppSecret/) }, '"]}]}']],
    });
    expect(resourcesAllowed(template, 'secretsmanager:GetSecretValue')).toContainEqual({ Ref: expect.stringMatching(/^AppSecret/) });
    expect(statementsAllowing(template, 'secretsmanager:UpdateSecret')).toEqual([expect.objectContaining({
      Resource: secretArn(REPLICA, '*'),
      Condition: {
        StringEquals: {
          'secretsmanager:ResourceTag/cross-region-config:source-region': PRIMARY,
          'secretsmanager:ResourceTag/cross-region-config:deployment': replicator.deploymentId,
        },
      },
    })]);
  });
});

describe('SecretSelection.anyOf', () => {
  test('replicates the union of the selections', () => {
    const { template } = synth({
      secrets: SecretSelection.anyOf(
        SecretSelection.fromNames('app/db'),
        SecretSelection.anyOf(SecretSelection.byNamePrefix('prod/'), SecretSelection.byTags({ replicate: 'true' })),
      ),
    });
    expect(JSON.parse(handlerEnvironment(template).SECRET_SELECTION as string)).toEqual({
      rules: [{ names: ['app/db'] }, { namePrefixes: ['prod/'] }, { tags: { replicate: 'true' } }],
    });
  });

  test('narrows the event rule to the union when no rule is tag-only', () => {
    const { template } = synth({ secrets: SecretSelection.anyOf(SecretSelection.fromNames('app/db'), SecretSelection.byNamePrefix('prod/')) });
    expect(orBranches(eventPatternDetail(template))['requestParameters.secretId']).toEqual([
      'app/db',
      arnPrefix('app/db-'),
      { prefix: 'prod/' },
      arnPrefix('prod/'),
    ]);
  });

  test('does not narrow the event rule when one rule is tag-only', () => {
    const { template } = synth({ secrets: SecretSelection.anyOf(SecretSelection.fromNames('app/db'), SecretSelection.byTags({ replicate: 'true' })) });
    expect(eventPatternDetail(template).$or).toBeUndefined();
  });

  test('lists a name selected twice once', () => {
    const { template } = synth({ secrets: SecretSelection.anyOf(SecretSelection.fromNames('app/db'), SecretSelection.fromNames('app/db')) });
    expect(orBranches(eventPatternDetail(template))['requestParameters.name']).toEqual(['app/db']);
    expect(resourcesAllowed(template, 'secretsmanager:CreateSecret')).toEqual([secretArn(REPLICA, 'app/db-??????')]);
  });
});

describe('SecretSelection with many secrets', () => {
  test('stops narrowing the event rule and warns when the pattern would exceed 2048 characters', () => {
    const names = Array.from({ length: 12 }, (_, i) => `prod/service-${i}/database-credentials`);
    const { template, stack } = synth({ secrets: SecretSelection.fromNames(...names) });
    expect(eventPatternDetail(template).$or).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp('above EventBridge\'s default quota of 2048'));
  });

  test('keeps narrowing the event rule for a few names', () => {
    const names = Array.from({ length: 3 }, (_, i) => `prod/service-${i}/db`);
    const { template, stack } = synth({ secrets: SecretSelection.fromNames(...names) });
    expect(eventPatternDetail(template).$or).toHaveLength(5);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('SecretSelection validation', () => {
  test('fails if fromNames gets no name', () => {
    expect(() => SecretSelection.fromNames()).toThrow('SecretSelection.fromNames() names must not be empty, but got []');
  });

  test('fails if fromSecrets gets no secret', () => {
    expect(() => SecretSelection.fromSecrets()).toThrow('SecretSelection.fromSecrets() secrets must not be empty, but got []');
  });

  test('fails if anyOf gets no selection', () => {
    expect(() => SecretSelection.anyOf()).toThrow('SecretSelection.anyOf() selections must not be empty, but got []');
  });

  test('fails if a name is empty', () => {
    expect(() => SecretSelection.fromNames('app/db', '')).toThrow(
      'SecretSelection.fromNames() names[1] must be 1 to 512 characters long (0 received), but got ""');
  });

  test('fails if a name is longer than 512 characters', () => {
    const name = 'a'.repeat(513);
    expect(() => SecretSelection.fromNames(name)).toThrow(
      `SecretSelection.fromNames() names[0] must be 1 to 512 characters long (513 received), but got "${name}"`);
  });

  test('fails if a name has a character Secrets Manager does not allow', () => {
    expect(() => SecretSelection.fromNames('app db')).toThrow(
      'SecretSelection.fromNames() names[0] must contain only the characters A-Z a-z 0-9 / _ + = . @ -, but got "app db"');
  });

  test('fails if the prefix is empty', () => {
    expect(() => SecretSelection.byNamePrefix('')).toThrow(
      'SecretSelection.byNamePrefix() prefix must be 1 to 512 characters long (0 received), but got ""');
  });

  test('fails if the prefix has a character Secrets Manager does not allow', () => {
    expect(() => SecretSelection.byNamePrefix('prod/*')).toThrow(
      'SecretSelection.byNamePrefix() prefix must contain only the characters A-Z a-z 0-9 / _ + = . @ -, but got "prod/*"');
  });

  test('fails if byTags gets no tag', () => {
    expect(() => SecretSelection.byTags({})).toThrow('SecretSelection.byTags() tags must not be empty, but got {}');
  });

  test('fails if a tag key is reserved by AWS', () => {
    expect(() => SecretSelection.byTags({ 'aws:cloudformation:stack-name': 'x' })).toThrow(
      'SecretSelection.byTags() tags key must not start with the reserved prefix "aws:", but got "aws:cloudformation:stack-name"');
  });

  test('fails if a tag key is longer than 128 characters', () => {
    const key = 'k'.repeat(129);
    expect(() => SecretSelection.byTags({ [key]: 'x' })).toThrow(
      `SecretSelection.byTags() tags key must be 1 to 128 characters long (129 received), but got "${key}"`);
  });

  test('fails if a tag value is longer than 256 characters', () => {
    const value = 'v'.repeat(257);
    expect(() => SecretSelection.byTags({ team: value })).toThrow(
      `SecretSelection.byTags() tags value of "team" must be 0 to 256 characters long (257 received), but got "${value}"`);
  });

  test('fails if byNamePrefixAndTags gets no tag', () => {
    expect(() => SecretSelection.byNamePrefixAndTags('prod/', {})).toThrow(
      'SecretSelection.byNamePrefixAndTags() tags must not be empty, but got {}');
  });

  test('accepts every character Secrets Manager allows', () => {
    expect(() => SecretSelection.fromNames('A-Za-z0-9/_+=.@-')).not.toThrow();
  });
});
