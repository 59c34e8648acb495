import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * The one builder behind every construct's `metricXxx()` methods. Internal; not exported from the
 * package.
 */

/** Dimension Powertools Metrics adds to every metric a handler emits; its value is `POWERTOOLS_SERVICE_NAME`. */
export const SERVICE_DIMENSION = 'service';

/** Inputs of `handlerMetric()`. */
export interface HandlerMetricSpec {
  readonly namespace: string;
  /** Value of the `service` dimension. */
  readonly serviceName: string;
  readonly metricName: string;
  readonly statistic: string;
  /** Period unless the caller's options give one. */
  readonly defaultPeriod: Duration;
  readonly unit?: cloudwatch.Unit;
  /** Dimensions beyond `service` (such as `ReplicaRegion`); undefined values are left out. */
  readonly dimensions?: { readonly [name: string]: string | undefined };
  readonly options?: cloudwatch.MetricOptions;
}

/** Builds one of a handler's metrics; caller options win, except namespace and dimensions. */
export function handlerMetric(spec: HandlerMetricSpec): cloudwatch.Metric {
  const extra = Object.fromEntries(Object.entries(spec.dimensions ?? {}).filter(([, value]) => value !== undefined)) as cloudwatch.DimensionsMap;
  return new cloudwatch.Metric({
    period: spec.defaultPeriod,
    statistic: spec.statistic,
    unit: spec.unit,
    ...spec.options,
    namespace: spec.namespace,
    metricName: spec.metricName,
    dimensionsMap: { ...spec.options?.dimensionsMap, [SERVICE_DIMENSION]: spec.serviceName, ...extra },
  });
}
