import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Options of the replicator's `metricXxx()` methods.
 */
export interface ReplicatorMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only the writes to this replica region (adds the dimension `ReplicaRegion`). Must be one of
   * `replicaRegions` or a `crossAccountReplicas` region.
   *
   * @default - the total over all replica regions
   */
  readonly replicaRegion?: string;
}
