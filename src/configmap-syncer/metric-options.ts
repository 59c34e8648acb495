import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { KubernetesCluster } from '../core/kubernetes-cluster';

/**
 * Options of the ConfigMap syncer's `metricXxx()` methods.
 */
export interface ConfigMapSyncMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only the ConfigMaps of this target cluster (adds the dimension `Cluster` with the value
   * `<region>/<cluster name>`).
   *
   * @default - the total over every target
   */
  readonly cluster?: KubernetesCluster;
}
