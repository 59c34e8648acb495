import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CLUSTER_DIMENSION } from './contract';
import { handlerMetric } from '../private/metrics';

export { SyncMetric } from './contract';

/** Period of every metric unless the caller chooses another: five minutes, the default sync interval. */
export const DEFAULT_SYNC_METRIC_PERIOD = Duration.minutes(5);

/** Inputs of `syncMetric()`. */
export interface SyncMetricSpec {
  readonly namespace: string;
  readonly serviceName: string;
  readonly metricName: string;
  readonly statistic: string;
  /** Value of the `Cluster` dimension (`<region>/<cluster name>`); absent for the total. */
  readonly cluster?: string;
  readonly options?: cloudwatch.MetricOptions;
}

/** Builds one of the syncer's metrics; caller options win, except namespace and dimensions. */
export function syncMetric(spec: SyncMetricSpec): cloudwatch.Metric {
  return handlerMetric({
    ...spec,
    defaultPeriod: DEFAULT_SYNC_METRIC_PERIOD,
    unit: cloudwatch.Unit.COUNT,
    dimensions: { [CLUSTER_DIMENSION]: spec.cluster },
  });
}

/** The value of the `Cluster` dimension for a cluster: `<region>/<cluster name>`. */
export function clusterDimension(cluster: { readonly region: string; readonly clusterName: string }): string {
  return `${cluster.region}/${cluster.clusterName}`;
}
