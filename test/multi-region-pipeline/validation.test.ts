import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { blueGreenProps, minimalProps, newPipelineStack, RecordingFactory, SOURCE } from './util';
import { DeploymentStrategy, HealthCheck, MultiRegionPipeline, MultiRegionPipelineProps, PipelineSource, TrafficSwitch } from '../../src';
import { at } from '../core/messages';

function build(props: (stack: Stack) => MultiRegionPipelineProps, stack: Stack = newPipelineStack()): MultiRegionPipeline {
  return new MultiRegionPipeline(stack, 'Pipeline', props(stack));
}
const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Z', { hostedZoneId: 'Z1', zoneName: 'example.com' });

describe('fails if', () => {
  test('the stack has no explicit account and region', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => build(() => minimalProps(), stack)).toThrow(at('Agnostic/Pipeline',
      'MultiRegionPipeline needs a stack with an explicit account and region (env), because it deploys to other regions, but got account unresolved and region unresolved'));
  });

  test('replicaRegions contains a name that is not a region', () => {
    expect(() => build(() => ({ ...minimalProps(), replicaRegions: ['eu-west1'] })))
      .toThrow(at('PipelineStack/Pipeline', 'replicaRegions must contain only AWS region names such as "eu-west-1", but got "eu-west1"'));
  });

  test('replicaRegions contains a region twice', () => {
    expect(() => build(() => ({ ...minimalProps(), replicaRegions: ['eu-west-1', 'eu-west-1'] })))
      .toThrow(at('PipelineStack/Pipeline', 'replicaRegions must not contain duplicates, but got ["eu-west-1","eu-west-1"]'));
  });

  test('replicaRegions contains the primary region', () => {
    expect(() => build(() => ({ ...minimalProps(), replicaRegions: ['us-east-1', 'eu-west-1'] })))
      .toThrow(at('PipelineStack/Pipeline', 'replicaRegions must not contain the primary region "us-east-1", but got ["us-east-1","eu-west-1"]'));
  });

  test('replicaRegions contains a region of another partition', () => {
    expect(() => build(() => ({ ...minimalProps(), replicaRegions: ['cn-north-1'] })))
      .toThrow(at('PipelineStack/Pipeline', 'replicaRegions must contain only regions of the primary region\'s partition "aws", but got "cn-north-1"'));
  });

  test('primaryRegion is not a region', () => {
    expect(() => build(() => ({ ...minimalProps(), primaryRegion: 'mars-1' }))).toThrow(at('PipelineStack/Pipeline', 'primaryRegion must be an AWS region name such as "eu-west-1", but got "mars-1"'));
  });

  test('coordinated rollback is asked for without a replica region', () => {
    expect(() => build(() => ({ ...minimalProps(), replicaRegions: [], coordinatedRollback: true })))
      .toThrow(at('PipelineStack/Pipeline', 'coordinatedRollback needs at least one replica region, but got true'));
  });

  test('the strategy is blue-green but there is no health check', () => {
    expect(() => build((stack) => ({ ...blueGreenProps(stack), healthChecks: undefined })))
      .toThrow(at('PipelineStack/Pipeline', 'healthChecks must not be empty under the blue-green strategy: the green slot must be checked before it gets traffic, but got undefined'));
  });

  test('a blue-green health check does not name the slot', () => {
    expect(() => build((stack) => ({ ...blueGreenProps(stack), healthChecks: [HealthCheck.http('https://api.{region}.example.com/health')] })))
      .toThrow(at('PipelineStack/Pipeline', 'healthChecks must each contain {slot} in the URL under the blue-green strategy, so each slot is checked before it gets traffic, but got ["https://api.{region}.example.com/health"]'));
  });

  test('a health check names the slot but the strategy is not blue-green', () => {
    expect(() => build(() => ({ ...minimalProps(), healthChecks: [HealthCheck.http('https://{slot}.example.com/')] })))
      .toThrow(at('PipelineStack/Pipeline', 'healthChecks must not contain {slot} unless the strategy is blue-green, but got ["https://{slot}.example.com/"]'));
  });

  test('a bake alarm names the slot but the strategy is not blue-green', () => {
    expect(() => build(() => ({ ...minimalProps(), bakeAlarmNames: ['a-{slot}'] })))
      .toThrow(at('PipelineStack/Pipeline', 'bakeAlarmNames must not contain {slot} unless the strategy is blue-green, but got ["a-{slot}"]'));
  });

  test('two health checks share a name', () => {
    expect(() => build(() => ({ ...minimalProps(), healthChecks: [HealthCheck.http('https://a.example.com/', { name: 'x' }), HealthCheck.http('https://b.example.com/', { name: 'x' })] })))
      .toThrow(at('PipelineStack/Pipeline', 'healthChecks names must not contain duplicates, but got ["x","x"]'));
  });

  test('the health checks can outlast the action', () => {
    expect(() => build(() => ({ ...minimalProps(), healthChecks: [HealthCheck.http('https://a.example.com/', { name: 'slow', maxAttempts: 100, timeout: Duration.seconds(10) })] })))
      .toThrow(at('PipelineStack/Pipeline', 'healthChecks can take up to 1990 s when failing (maxAttempts x timeout + (maxAttempts - 1) x interval), more than the 840 s a health-check action may run; lower maxAttempts, timeout or interval, but got ["slow"]'));
  });

  test('bakeTime is not whole minutes', () => {
    expect(() => build(() => ({ ...minimalProps(), bakeAlarmNames: ['a'], bakeTime: Duration.seconds(90) })))
      .toThrow(at('PipelineStack/Pipeline', 'bakeTime must be a whole number of minutes from 1 to 1440, but got "1 minute 30 seconds"'));
  });

  test('a bake alarm name is not an alarm name', () => {
    expect(() => build(() => ({ ...minimalProps(), bakeAlarmNames: [' leading-space'] })))
      .toThrow(at('PipelineStack/Pipeline', 'bakeAlarmNames must be CloudWatch alarm names (1 to 255 printable ASCII characters), but got " leading-space"'));
  });

  test('the deployment window is not a cron expression', () => {
    expect(() => build(() => ({ ...minimalProps(), deploymentWindow: { cron: 'weekdays' } })))
      .toThrow(at('PipelineStack/Pipeline', 'deploymentWindow cron must be a cron expression of 6 or 7 fields whose first (seconds) field is "*", such as "* * 9-16 ? * MON-THU", but got "weekdays"'));
  });

  test('the deployment window time zone is not a time zone', () => {
    expect(() => build(() => ({ ...minimalProps(), deploymentWindow: { cron: '* * 9-16 ? * MON-THU', timeZone: 'CET +1' } })))
      .toThrow(at('PipelineStack/Pipeline', 'deploymentWindow timeZone must be an IANA time zone such as "Europe/Berlin" or "UTC", but got "CET +1"'));
  });

  test('synthCommands is empty', () => {
    expect(() => build(() => ({ ...minimalProps(), synthCommands: [] }))).toThrow(at('PipelineStack/Pipeline', 'synthCommands must not be empty, but got []'));
  });

  test('pipelineName has characters CodePipeline refuses', () => {
    expect(() => build(() => ({ ...minimalProps(), pipelineName: 'my pipeline' })))
      .toThrow(at('PipelineStack/Pipeline', 'pipelineName must be 1 to 100 of the characters A-Z a-z 0-9 . @ - _, but got "my pipeline"'));
  });

  test('metricNamespace is reserved', () => {
    expect(() => build(() => ({ ...minimalProps(), metricNamespace: 'AWS/CodePipeline' }))).toThrow(at('PipelineStack/Pipeline', 'metricNamespace must not start with the reserved "AWS/", but got "AWS/CodePipeline"'));
  });

  test('parameterPrefix ends with a slash', () => {
    expect(() => build(() => ({ ...minimalProps(), parameterPrefix: '/app/' })))
      .toThrow(at('PipelineStack/Pipeline', 'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "/app/"'));
  });

  test('the factory returns a stage of another region', () => {
    expect(() => build(() => minimalProps(new RecordingFactory('sa-east-1'))))
      .toThrow(at('PipelineStack/Pipeline', 'application createStage must return a stage in the region it was asked for (us-east-1), for us-east-1, but got "sa-east-1"'));
  });
});

describe('PipelineSource fails if', () => {
  test('the connection ARN is not a CodeConnections ARN', () => {
    expect(() => PipelineSource.connection({ connectionArn: 'arn:aws:iam::111111111111:role/x', owner: 'o', repository: 'r', branch: 'main' }))
      .toThrow(new Error('PipelineSource.connection() connectionArn must be a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>), but got "arn:aws:iam::111111111111:role/x"'));
  });

  test('the owner has a slash', () => {
    expect(() => PipelineSource.connection({ connectionArn: 'arn:aws:codestar-connections:us-east-1:111111111111:connection/abc', owner: 'o/x', repository: 'r', branch: 'main' }))
      .toThrow(new Error('PipelineSource.connection() owner must be a repository owner: letters, digits, "_", "." and "-", but got "o/x"'));
  });

  test('the branch is not a branch name', () => {
    expect(() => PipelineSource.connection({ connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/abc', owner: 'o', repository: 'r', branch: 'feature..x' }))
      .toThrow(new Error('PipelineSource.connection() branch must be a git branch name (no spaces, "..", "~", "^", ":", "?", "*", "[" or "\\"), but got "feature..x"'));
  });

  test('the S3 object key starts with a slash', () => {
    const stack = newPipelineStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'my-source-bucket');
    expect(() => PipelineSource.s3(bucket, '/source.zip')).toThrow(new Error('PipelineSource.s3() objectKey must not start with "/", but got "/source.zip"'));
  });
});

describe('HealthCheck fails if', () => {
  test('the URL is not http(s)', () => {
    expect(() => HealthCheck.http('ftp://example.com/')).toThrow(new Error('healthChecks url must be an http:// or https:// URL, but got "ftp://example.com/"'));
  });
  test('the URL has an unknown placeholder', () => {
    expect(() => HealthCheck.http('https://{env}.example.com/')).toThrow(new Error('healthChecks url may only contain the placeholders {region} and {slot}, but got "https://{env}.example.com/"'));
  });
  test('maxAttempts is below consecutiveSuccesses', () => {
    expect(() => HealthCheck.http('https://a.example.com/', { consecutiveSuccesses: 5, maxAttempts: 3 }))
      .toThrow(new Error('healthChecks maxAttempts must be an integer from 5 to 100, but got 3'));
  });
  test('the latency threshold exceeds the timeout', () => {
    expect(() => HealthCheck.http('https://a.example.com/', { timeout: Duration.seconds(2), latencyThreshold: Duration.seconds(3) }))
      .toThrow(new Error('healthChecks latencyThreshold must be a whole number of milliseconds from 1 to the timeout (2000), but got "3 seconds"'));
  });
  test('an expected status is not an HTTP status', () => {
    expect(() => HealthCheck.http('https://a.example.com/', { expectedStatuses: [200, 700] })).toThrow(new Error('healthChecks expectedStatuses must be an integer from 100 to 599, but got 700'));
  });
  test('the timeout is not whole seconds', () => {
    expect(() => HealthCheck.http('https://a.example.com/', { timeout: Duration.millis(1500) }))
      .toThrow(new Error('healthChecks timeout must be a whole number of seconds from 1 to 60, but got "1 second 500 millis"'));
  });
});

describe('TrafficSwitch fails if', () => {
  test('the record name contains {slot}', () => {
    const stack = newPipelineStack();
    expect(() => TrafficSwitch.route53WeightedRecords({ hostedZone: zone(stack), recordName: '{slot}.example.com' }))
      .toThrow(new Error('TrafficSwitch.route53WeightedRecords() recordName must not contain {slot}: both slots share the name, but got "{slot}.example.com"'));
  });
  test('both set identifiers are the same', () => {
    const stack = newPipelineStack();
    expect(() => TrafficSwitch.route53WeightedRecords({ hostedZone: zone(stack), recordName: 'api.example.com', blueSetIdentifier: 'a', greenSetIdentifier: 'a' }))
      .toThrow(new Error('TrafficSwitch.route53WeightedRecords() greenSetIdentifier must differ from blueSetIdentifier, but got "a"'));
  });
  test('the live weight is 0', () => {
    const stack = newPipelineStack();
    expect(() => TrafficSwitch.route53WeightedRecords({ hostedZone: zone(stack), recordName: 'api.example.com', liveWeight: 0 }))
      .toThrow(new Error('TrafficSwitch.route53WeightedRecords() liveWeight must be an integer from 1 to 255, but got 0'));
  });
  test('the parameter name is reserved', () => {
    expect(() => TrafficSwitch.ssmParameter({ parameterName: '/aws/live-slot' })).toThrow(new Error('TrafficSwitch.ssmParameter() parameterName must not start with the reserved "aws" or "ssm", but got "/aws/live-slot"'));
  });
  test('the parameter name has a space', () => {
    expect(() => TrafficSwitch.ssmParameter({ parameterName: '/my app/live' }))
      .toThrow(new Error('TrafficSwitch.ssmParameter() parameterName must be a Parameter Store name of the characters A-Z a-z 0-9 _ . - and "/", optionally with {region}, but got "/my app/live"'));
  });
});

describe('warns when', () => {
  test('bakeTime is set without bake alarms', () => {
    const stack = newPipelineStack();
    build(() => ({ ...minimalProps(), bakeTime: Duration.minutes(5) }), stack);
    Annotations.fromStack(stack).hasWarning('/PipelineStack/Pipeline', 'bakeTime is ignored because bakeAlarmNames is empty: CodePipeline bakes by watching alarms. [ack: cdk-cross-region-config:bakeTimeWithoutAlarms]');
  });
});

test('the S3 and CodeCommit sources describe themselves', () => {
  const stack = newPipelineStack();
  const bucket = s3.Bucket.fromBucketName(stack, 'B', 'my-bucket');
  const repo = codecommit.Repository.fromRepositoryName(stack, 'R', 'my-repo');
  expect(PipelineSource.s3(bucket, 'src.zip').description).toBe('s3://my-bucket/src.zip');
  expect(PipelineSource.codeCommit(repo, 'main')).toMatchObject({ description: 'my-repo@main', sourceType: 'codecommit' });
  expect(SOURCE.sourceType).toBe('connection');
  const pipeline = build(() => ({ ...minimalProps(), source: PipelineSource.codeCommit(repo, 'main'), strategy: DeploymentStrategy.sequential() }), stack);
  expect(pipeline.pipeline.stages[0].actions[0].actionProperties.provider).toBe('CodeCommit');
});
