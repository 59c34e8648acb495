import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { REGION_DIMENSION } from './contract';
import { handlerMetric } from '../private/metrics';

/** Period of every metric unless the caller chooses another: five minutes. */
export const DEFAULT_PIPELINE_METRIC_PERIOD = Duration.minutes(5);

/** Inputs of `pipelineMetric()`. */
export interface PipelineMetricSpec {
  readonly namespace: string;
  readonly serviceName: string;
  readonly metricName: string;
  readonly statistic: string;
  readonly unit: cloudwatch.Unit;
  /** Value of the `Region` dimension; absent for the total. */
  readonly region?: string;
  readonly options?: cloudwatch.MetricOptions;
}

/** Builds one of the pipeline handlers' metrics; caller options win, except namespace and dimensions. */
export function pipelineMetric(spec: PipelineMetricSpec): cloudwatch.Metric {
  return handlerMetric({ ...spec, defaultPeriod: DEFAULT_PIPELINE_METRIC_PERIOD, dimensions: { [REGION_DIMENSION]: spec.region } });
}
