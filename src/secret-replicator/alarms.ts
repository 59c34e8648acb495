import { AlarmSet } from '../core/alarms';
import { createReplicationAlarms, fullSyncAgeDetails, RECONCILE_HINT, ReplicationAlarms, ReplicationAlarmSources } from '../core/replication-alarms';

/**
 * The secret replicator's alarms: the shared replicator alarms (src/core/replication-alarms.ts),
 * described for secrets. Internal; not exported from the package.
 */
export function createReplicatorAlarms(alarms: AlarmSet, sources: ReplicationAlarmSources): ReplicationAlarms {
  return createReplicationAlarms(alarms, sources, {
    errors: 'The secret replicator function failed at least once in 5 minutes. '
      + 'Check its log group for the error (secret values are never logged); failed events are retried twice and then sent to the dead-letter queue. '
      + RECONCILE_HINT,
    throttles: 'The secret replicator function was throttled in the last 5 minutes, so replication is delayed. '
      + 'Check the account\'s Lambda concurrency (unreserved concurrency and other functions\' usage). '
      + RECONCILE_HINT,
    deadLetter: 'Secret change events could not be delivered to or processed by the replicator and are in its dead-letter queue. '
      + 'Read the messages (they hold CloudTrail events, never secret values) to see which secrets are affected, fix the cause, '
      + 'then purge the queue and invoke the function with {"action":"reconcile"}. Messages are kept for 14 days.',
    replicationFailures: 'At least one secret could not be written to a replica region in 5 minutes. '
      + 'The ReplicationFailures metric with the ReplicaRegion dimension shows which region; the log group names the secret and the AWS error '
      + '(typically IAM, a KMS key policy, or an assumed role\'s trust policy). '
      + RECONCILE_HINT,
    fullSyncAge: (thresholdText) => `For more than ${thresholdText}, a replica region has not fully agreed with the primary in any reconciliation, `
      + 'or no reconciliation reported at all. The SecondsSinceFullSync metric with the ReplicaRegion dimension shows which region; '
      + fullSyncAgeDetails('secrets'),
    conflicts: 'A replica secret was changed in its own region and the replicator left it as it is (conflict policy SKIP_AND_ALARM). '
      + 'The log group names the secret and region. Decide which value wins: to keep the primary\'s, move the replica\'s AWSCURRENT stage back to '
      + 'the replicator\'s last version (its version id is the primary version id it copies, a dot and a suffix; DescribeSecret lists the versions) '
      + 'and invoke the function with {"action":"reconcile"}; '
      + 'to keep the replica\'s, write that value to the primary secret.',
  });
}
