import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { MINIMAL_PROPS, newStack } from './util';
import { CrossRegionParameterReplicator, CrossRegionParameterReplicatorProps, ParameterOverride, ParameterSelection } from '../../src';
import { ConfigValidationError } from '../../src/private/validation';
import { at } from '../core/messages';

const build = (props: Partial<CrossRegionParameterReplicatorProps>, stack: Stack = newStack()) =>
  new CrossRegionParameterReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...props });
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE = 'arn:aws:iam::444455556666:role/parameter-writer';

describe('CrossRegionParameterReplicator fails if', () => {
  test.each<[string, Partial<CrossRegionParameterReplicatorProps>, string]>([
    ['replicaRegions is empty', { replicaRegions: [] }, 'replicaRegions must not be empty, but got []'],
    ['replicaRegions contains the primary region', { replicaRegions: ['us-east-1'] }, 'replicaRegions must not contain the primary region, but got ["us-east-1"]'],
    ['replicaRegions has a duplicate', { replicaRegions: ['eu-west-1', 'eu-west-1'] }, 'replicaRegions must not contain duplicates, but got ["eu-west-1","eu-west-1"]'],
    ['a replica key names another region', { replicaKmsKeys: [{ region: 'us-west-2', aliasName: 'alias/x' }] },
      'replicaKmsKeys[0].region must be one of replicaRegions ["eu-west-1"], but got "us-west-2"'],
    ['a replica key sets both forms', { replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/x', keyArn: KEY_ARN }] },
      `replicaKmsKeys[0] must set exactly one of keyArn and aliasName, but got {"region":"eu-west-1","aliasName":"alias/x","keyArn":"${KEY_ARN}"}`],
    ['a replica key ARN is in another region', { replicaKmsKeys: [{ region: 'eu-west-1', keyArn: KEY_ARN.replace('eu-west-1', 'us-west-2') }] },
      `replicaKmsKeys[0].keyArn must be the ARN of a KMS key in eu-west-1 such as "${KEY_ARN}", but got "${KEY_ARN.replace('eu-west-1', 'us-west-2')}"`],
    ['a replica key is another service\'s AWS managed key', { replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/aws/secretsmanager' }] },
      'replicaKmsKeys[0].aliasName must be a customer managed key alias or "alias/aws/ssm", but got "alias/aws/secretsmanager"'],
    ['a replica key alias lacks the alias/ prefix', { replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'parameters' }] },
      'replicaKmsKeys[0].aliasName must be a KMS alias name starting with "alias/" such as "alias/secrets", but got "parameters"'],
    ['a replica key names a region twice', { replicaRegions: ['eu-west-1'], replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/a' }, { region: 'eu-west-1', aliasName: 'alias/b' }] },
      'replicaKmsKeys must not name a region twice, but got ["eu-west-1","eu-west-1"]'],
    ['a cross-account role is not a role ARN', { crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'parameter-writer' }] },
      'crossAccountReplicas[0].roleArn must be an IAM role ARN such as "arn:aws:iam::111122223333:role/parameter-replica-writer", but got "parameter-writer"'],
    ['a cross-account replica sets both key forms', { crossAccountReplicas: [{ region: 'eu-west-1', roleArn: ROLE, keyArn: KEY_ARN, aliasName: 'alias/x' }] },
      `crossAccountReplicas[0] must set at most one of keyArn and aliasName, but got {"region":"eu-west-1","roleArn":"${ROLE}","keyArn":"${KEY_ARN}","aliasName":"alias/x"}`],
    ['a cross-account region is unknown', { crossAccountReplicas: [{ region: 'mars-east-1', roleArn: ROLE }] },
      'crossAccountReplicas[0].region must be an AWS region name such as "eu-west-1", but got "mars-east-1"'],
    ['a cross-account replica repeats', { crossAccountReplicas: [{ region: 'us-west-2', roleArn: ROLE }, { region: 'us-west-2', roleArn: ROLE }] },
      `crossAccountReplicas must not contain the same region and roleArn twice, but got [{"region":"us-west-2","roleArn":"${ROLE}"},{"region":"us-west-2","roleArn":"${ROLE}"}]`],
    ['an override names an unselected parameter', { overrides: [ParameterOverride.forRegion('/app/other/x', 'eu-west-1', 'v')] },
      'overrides must name parameters selected by parameters (below ["/app/prod"] and not excluded), but got ["/app/other/x"]'],
    ['an override names an excluded parameter', {
      parameters: ParameterSelection.fromPaths(['/app/prod'], { excludedPaths: ['/app/prod/local'] }),
      overrides: [ParameterOverride.forRegion('/app/prod/local/x', 'eu-west-1', 'v')],
    }, 'overrides must name parameters selected by parameters (below ["/app/prod"] and not excluded), but got ["/app/prod/local/x"]'],
    ['an override names a region without a replica', { overrides: [ParameterOverride.forRegion('/app/prod/x', 'us-west-2', 'v')] },
      'overrides (parameter /app/prod/x) must name one of the replica regions eu-west-1, but got "us-west-2"'],
    ['two overrides declare the same parameter and region', {
      overrides: [ParameterOverride.forRegion('/app/prod/x', 'eu-west-1', 'a'), ParameterOverride.template('/app/prod/x', '{region}')],
    }, 'overrides must declare at most one value per parameter and region, but got "/app/prod/x in eu-west-1 twice"'],
    ['an override is too long for a Standard replica tier', {
      replicaTier: ssm.ParameterTier.STANDARD, overrides: [ParameterOverride.forRegion('/app/prod/x', 'eu-west-1', 'a'.repeat(4097))],
    }, 'overrides must fit the Standard tier of replicaTier (4096 bytes), but got ["/app/prod/x in eu-west-1: 4097 bytes"]'],
    ['maxWritesPerSecond is zero', { maxWritesPerSecond: 0 }, 'maxWritesPerSecond must be an integer from 1 to 1000 writes per second, but got 0'],
    ['maxWritesPerSecond is not whole', { maxWritesPerSecond: 2.5 }, 'maxWritesPerSecond must be an integer from 1 to 1000 writes per second, but got 2.5'],
    ['maxWritesPerSecond exceeds the highest quota', { maxWritesPerSecond: 1001 }, 'maxWritesPerSecond must be an integer from 1 to 1000 writes per second, but got 1001'],
    ['the reconciliation runs more often than every 15 minutes', { reconciliationSchedule: events.Schedule.rate(Duration.minutes(10)) },
      'reconciliationSchedule must run at most once every 15 minutes (a reconciliation may take the handler\'s default timeout, and reconciliations must not overlap), but got "rate(10 minutes)"'],
    ['fullSyncAlarmThreshold is under 10 minutes', { fullSyncAlarmThreshold: Duration.minutes(5) },
      'fullSyncAlarmThreshold must be a whole number of minutes from 10 to 1440, but got "5 minutes"'],
    ['parameterPrefix ends with a slash', { parameterPrefix: '/app/' },
      'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "/app/"'],
    ['metricNamespace is reserved', { metricNamespace: 'AWS/Parameters' }, 'metricNamespace must not start with the reserved "AWS/", but got "AWS/Parameters"'],
  ])('%s', (_name, props, message) => {
    expect(() => build(props)).toThrow(at('TestStack/Replicator', message));
  });

  test('the error is a ConfigValidationError naming the construct path', () => {
    try {
      build({ maxWritesPerSecond: 0 });
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigValidationError);
    }
  });

  test('a cross-account replica would write the primary region of this account', () => {
    const stack = newStack(new App(), 'us-east-1', '444455556666');
    expect(() => build({ crossAccountReplicas: [{ region: 'us-east-1', roleArn: ROLE }] }, stack)).toThrow(at('TestStack/Replicator',
      `crossAccountReplicas[0] must not write to the primary region of this account (that would overwrite the primary parameters), but got {"region":"us-east-1","roleArn":"${ROLE}"}`));
  });

  test('the stack has no region', () => {
    expect(() => new CrossRegionParameterReplicator(new Stack(new App(), 'Agnostic'), 'Replicator', MINIMAL_PROPS))
      .toThrow(at('Agnostic/Replicator', 'CrossRegionParameterReplicator needs a stack with an explicit region (env.region), but got an environment-agnostic stack'));
  });

  test('two replicators in one app write the same settings parameter', () => {
    const stack = newStack();
    build({ parameterPrefix: '/app/production' }, stack);
    expect(() => new CrossRegionParameterReplicator(stack, 'Second', { ...MINIMAL_PROPS, parameterPrefix: '/app/production' })).toThrow(
      /TestStack\/Second: parameterPrefix must differ from that of TestStack\/Replicator: both would write the settings parameter/);
  });
});

describe('ParameterSelection fails if', () => {
  test.each<[string, () => unknown, string]>([
    ['no path is given', () => ParameterSelection.fromPaths([]), 'ParameterSelection.fromPaths() paths must not be empty, but got []'],
    ['a path ends with a slash', () => ParameterSelection.fromPaths(['/app/']), 'ParameterSelection.fromPaths() paths must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production" (or "/" for every parameter), but got "/app/"'],
    ['a path does not start with a slash', () => ParameterSelection.fromPaths(['app']), 'ParameterSelection.fromPaths() paths must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production" (or "/" for every parameter), but got "app"'],
    ['a path is reserved', () => ParameterSelection.fromPaths(['/aws/service']), 'ParameterSelection.fromPaths() paths must not start with the reserved "/aws" or "/ssm", but got "/aws/service"'],
    ['a path is under the settings-document root', () => ParameterSelection.fromPaths(['/cdk-cross-region-config/x']),
      'ParameterSelection.fromPaths() paths must not be under "/cdk-cross-region-config", where the library keeps its handlers\' settings documents, but got "/cdk-cross-region-config/x"'],
    ['the settings-document root itself is a path', () => ParameterSelection.fromPaths(['/cdk-cross-region-config']),
      'ParameterSelection.fromPaths() paths must not be under "/cdk-cross-region-config", where the library keeps its handlers\' settings documents, but got "/cdk-cross-region-config"'],
    ['paths overlap', () => ParameterSelection.fromPaths(['/app', '/app/prod']),
      'ParameterSelection.fromPaths() paths must not overlap (each is selected recursively), but "/app/prod" is below, but got "/app"'],
    ['"/" and another path overlap', () => ParameterSelection.fromPaths(['/', '/app']),
      'ParameterSelection.fromPaths() paths must not overlap (each is selected recursively), but "/app" is below, but got "/"'],
    ['a path repeats', () => ParameterSelection.fromPaths(['/app', '/app']), 'ParameterSelection.fromPaths() paths must not contain duplicates, but got ["/app","/app"]'],
    ['a path is a token', () => ParameterSelection.fromPaths([Lazy.string({ produce: () => '/app' })]),
      'ParameterSelection.fromPaths() paths must be literal paths (not tokens): IAM and the event rule are scoped by them, but got'],
    ['a path is deeper than 15 levels', () => ParameterSelection.fromPaths([`/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`]),
      'ParameterSelection.fromPaths() paths must have at most 15 levels, but got'],
    ['a name pattern has a space', () => ParameterSelection.fromPaths(['/app'], { namePatterns: ['/app/* x'] }),
      'ParameterSelection namePatterns[0] must contain only the characters A-Z a-z 0-9 _ . - / and the wildcards * and ?, but got "/app/* x"'],
    ['a name pattern is empty', () => ParameterSelection.fromPaths(['/app'], { namePatterns: [''] }),
      'ParameterSelection namePatterns[0] must be 1 to 2048 characters long (0 received), but got ""'],
    ['a tag key is reserved', () => ParameterSelection.fromPaths(['/app'], { tags: { 'aws:team': 'x' } }),
      'ParameterSelection tags key must not start with the reserved "aws:", but got "aws:team"'],
    ['a tag value is too long', () => ParameterSelection.fromPaths(['/app'], { tags: { team: 'x'.repeat(257) } }),
      'ParameterSelection tags["team"] must be 0 to 256 characters long (257 received), but got'],
    ['an excluded path is outside the paths', () => ParameterSelection.fromPaths(['/app'], { excludedPaths: ['/other'] }),
      'ParameterSelection excludedPaths must be below one of the selected paths ["/app"], but got "/other"'],
    ['an excluded path is a selected path', () => ParameterSelection.fromPaths(['/app'], { excludedPaths: ['/app'] }),
      'ParameterSelection excludedPaths must be below one of the selected paths ["/app"], but got "/app"'],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('ParameterSelection', () => {
  test('keeps only the conditions given', () => {
    expect(ParameterSelection.fromPaths(['/app'])._config()).toEqual({ paths: ['/app'] });
  });

  test('covers names below a path and not below an excluded path', () => {
    const selection = ParameterSelection.fromPaths(['/app', '/shared'], { excludedPaths: ['/app/local'] });
    expect(['/app/a', '/app/x/y', '/shared/z', '/app/local', '/app/local/q', '/application/a', '/app', '/other'].filter((n) => selection._covers(n)))
      .toEqual(['/app/a', '/app/x/y', '/shared/z']);
    expect(ParameterSelection.fromPaths(['/'])._covers('flat-name')).toBe(true);
  });
});
