import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { REPLICA_REGION_DIMENSION } from './contract';
import { handlerMetric } from '../private/metrics';

export { ParameterReplicatorMetric } from './contract';

/** Period of every metric unless the caller chooses another: five minutes. */
export const DEFAULT_METRIC_PERIOD = Duration.minutes(5);

/** Inputs of `parameterReplicatorMetric()`. */
export interface ParameterReplicatorMetricSpec {
  readonly namespace: string;
  readonly serviceName: string;
  readonly metricName: string;
  readonly statistic: string;
  readonly unit?: cloudwatch.Unit;
  readonly replicaRegion?: string;
  readonly options?: cloudwatch.MetricOptions;
}

/** Builds one of the handler's metrics; caller options win, except namespace and dimensions. */
export function parameterReplicatorMetric(spec: ParameterReplicatorMetricSpec): cloudwatch.Metric {
  return handlerMetric({ ...spec, defaultPeriod: DEFAULT_METRIC_PERIOD, dimensions: { [REPLICA_REGION_DIMENSION]: spec.replicaRegion } });
}
