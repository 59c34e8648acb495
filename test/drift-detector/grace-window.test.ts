import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ConfigDriftDetector, CrossRegionSecretReplicator, SecretSelection } from '../../src';

const WARNING = 'graceWindow is 0 while the replicator copies changes as they happen: a secret changed while a scan runs is reported as drift '
  + 'before its replicas are written. Keep a window at least as long as a replication takes (the default is 10 minutes). '
  + '[ack: cdk-cross-region-config:graceWindowZero]';

function detectorStack(graceWindow: Duration | undefined, withReplicator: boolean): Stack {
  const stack = new Stack(new App(), 'TestStack', { env: { region: 'us-east-1' } });
  const secrets = SecretSelection.fromNames('app/db');
  const replicator = withReplicator
    ? new CrossRegionSecretReplicator(stack, 'Replicator', { secrets, replicaRegions: ['eu-west-1'] })
    : undefined;
  new ConfigDriftDetector(stack, 'Detector', replicator ? { replicator, graceWindow } : { secrets, replicaRegions: ['eu-west-1'], graceWindow });
  return stack;
}

describe('ConfigDriftDetector graceWindow', () => {
  test('warns if graceWindow is 0 while the replicator replicates on events', () => {
    Annotations.fromStack(detectorStack(Duration.seconds(0), true)).hasWarning('/TestStack/Detector', WARNING);
  });

  test('does not warn with a window, or without a replicator whose events it races', () => {
    for (const stack of [detectorStack(Duration.seconds(1), true), detectorStack(undefined, true), detectorStack(Duration.seconds(0), false)]) {
      Annotations.fromStack(stack).hasNoWarning('/TestStack/Detector', Match.stringLikeRegexp('graceWindow'));
    }
  });
});
