import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Options of the parameter replicator's `metricXxx()` methods.
 */
export interface ParameterReplicatorMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only the writes to this replica region (adds the dimension `ReplicaRegion`). Must be one of
   * `replicaRegions` or a `crossAccountReplicas` region.
   *
   * @default - the total over all replica regions
   */
  readonly replicaRegion?: string;
}
