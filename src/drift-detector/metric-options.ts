import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DriftResourceType } from './remediation-mode';

/**
 * Options of the drift detector's `metricXxx()` methods.
 */
export interface DriftMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only this resource type (adds the dimension `ResourceType`).
   * Only for `metricDriftCount()` and `metricHasDrift()`; set at most one of this and `replicaRegion`.
   *
   * @default - every resource type
   */
  readonly resourceType?: DriftResourceType;

  /**
   * Only this replica region (adds the dimension `ReplicaRegion`). Only for `metricDriftCount()`
   * and `metricHasDrift()`; set at most one of this and `resourceType`.
   *
   * @default - every replica region
   */
  readonly replicaRegion?: string;
}
