import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { REPLICA_REGION_DIMENSION, RESOURCE_TYPE_DIMENSION } from './contract';
import { handlerMetric } from '../private/metrics';

export { DriftMetric } from './contract';

/** Period of every metric unless the caller chooses another: one hour, the default scan interval. */
export const DEFAULT_DRIFT_METRIC_PERIOD = Duration.hours(1);

/** Inputs of `driftMetric()`. */
export interface DriftMetricSpec {
  readonly namespace: string;
  readonly serviceName: string;
  readonly metricName: string;
  readonly statistic: string;
  readonly resourceType?: string;
  readonly replicaRegion?: string;
  readonly options?: cloudwatch.MetricOptions;
}

/** Builds one of the detector's metrics; caller options win, except namespace and dimensions. */
export function driftMetric(spec: DriftMetricSpec): cloudwatch.Metric {
  return handlerMetric({
    ...spec,
    defaultPeriod: DEFAULT_DRIFT_METRIC_PERIOD,
    unit: cloudwatch.Unit.COUNT,
    dimensions: { [RESOURCE_TYPE_DIMENSION]: spec.resourceType, [REPLICA_REGION_DIMENSION]: spec.replicaRegion },
  });
}
