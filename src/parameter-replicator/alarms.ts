import { AlarmSet } from '../core/alarms';
import { createReplicationAlarms, fullSyncAgeDetails, RECONCILE_HINT, ReplicationAlarms, ReplicationAlarmSources } from '../core/replication-alarms';

/**
 * The parameter replicator's alarms: the shared replicator alarms (src/core/replication-alarms.ts),
 * described for parameters. Internal; not exported from the package.
 */
export function createParameterReplicatorAlarms(alarms: AlarmSet, sources: ReplicationAlarmSources): ReplicationAlarms {
  return createReplicationAlarms(alarms, sources, {
    errors: 'The parameter replicator function failed at least once in 5 minutes. '
      + 'Check its log group for the error (parameter values are never logged); failed events are retried twice and then sent to the dead-letter queue. '
      + RECONCILE_HINT,
    throttles: 'The parameter replicator function was throttled in the last 5 minutes, so replication is delayed. '
      + 'Check the account\'s Lambda concurrency (unreserved concurrency and other functions\' usage). '
      + RECONCILE_HINT,
    deadLetter: 'Parameter Store change events could not be delivered to or processed by the parameter replicator and are in its dead-letter queue. '
      + 'Read the messages (they hold change events with parameter names, never values) to see which parameters are affected, fix the cause, '
      + 'then purge the queue and invoke the function with {"action":"reconcile"}. Messages are kept for 14 days.',
    replicationFailures: 'At least one parameter could not be written to a replica region in 5 minutes. '
      + 'The ReplicationFailures metric with the ReplicaRegion dimension shows which region; the log group names the parameter and the reason '
      + '(IAM or a KMS key policy, an assumed role\'s trust policy, a value too long for the replica\'s tier, a regional data type such as '
      + 'aws:ec2:image without a declared override, or PutParameter throttling beyond the retries: see the README on raising the throughput quota). '
      + RECONCILE_HINT,
    fullSyncAge: (thresholdText) => `For more than ${thresholdText}, a replica region has not fully agreed with the primary (or its declared overrides) in any `
      + 'reconciliation, or no reconciliation reported at all. The SecondsSinceFullSync metric with the ReplicaRegion dimension shows which region; '
      + fullSyncAgeDetails('parameters'),
    conflicts: 'A replica parameter was changed in its own region and the replicator left it as it is (conflict policy SKIP_AND_ALARM). '
      + 'The log group names the parameter and region. Decide which value wins: to keep the primary\'s (or the declared override), delete the '
      + 'replica or write the primary\'s value back with aws ssm put-parameter --overwrite and invoke the function with {"action":"reconcile"}; '
      + 'to keep the replica\'s, write that value to the primary parameter (or declare it as the region\'s override).',
  });
}
