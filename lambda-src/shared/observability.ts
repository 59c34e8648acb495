import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as MetricUnitType } from '@aws-lambda-powertools/metrics/types';

export { MetricUnit };
export type { MetricUnitType };

/**
 * Structured JSON logging. House rule: log names, ARNs, regions, counts and error names only,
 * never a value. `errorFields` reduces an exception to fields that cannot carry a secret value
 * (SDK messages may quote request input, so the message is only kept for errors we raise).
 */
export const logger = new Logger({ logRecordOrder: ['level', 'message', 'timestamp'] });

/** EMF metrics; namespace and `service` dimension come from POWERTOOLS_* environment variables. */
export const metrics = new Metrics();

/**
 * Emits `name` twice: once with the default dimensions (the total) and once with `dimension` =
 * `value` added (e.g. per replica region), so alarms can use the total and dashboards the split.
 */
export function addSplitMetric(name: string, unit: MetricUnitType, value: number, dimension: string, dimensionValue: string): void {
  metrics.addMetric(name, unit, value);
  const single = metrics.singleMetric();
  single.addDimension(dimension, dimensionValue);
  single.addMetric(name, unit, value);
}

/** The value-free description of an error for logs and reports. */
export interface ErrorFields {
  readonly errorName: string;
  readonly httpStatus?: number;
  readonly requestId?: string;
}

/** Reduces an error to value-free fields (name, HTTP status, request id). */
export function errorFields(error: unknown): ErrorFields {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  return {
    errorName: e?.name ?? e?.code ?? 'Error',
    ...(e?.$metadata?.httpStatusCode ? { httpStatus: e.$metadata.httpStatusCode } : {}),
    ...(e?.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
  };
}
