/**
 * The contract of deadline-aware runs, shared by every handler whose runs can outgrow one
 * invocation (the secret replicator's reconciliation today; the drift scan, the ConfigMap sync and
 * the parameter replication as they adopt `lambda-src/shared/run-budget.ts` and
 * `continuation.ts`): the metric names they emit and the summary fields they return. Internal:
 * not exported from the package entry point.
 */

/** Metrics every deadline-aware run emits once per invocation (dimension `service`). */
export const RunMetric = {
  /** Items (for the replicator: (secret, replica region) pairs) worked in the invocation (unit: Count). */
  ITEMS_PROCESSED: 'ItemsProcessed',
  /** 1 when the invocation stopped before the end of its pass and handed the rest over, else 0 (unit: Count). */
  RUN_PARTIAL: 'RunPartial',
  /**
   * Seconds the oldest item not yet worked in the current pass has been waiting: since the pass
   * started when the invocation handed over, 0 when the pass completed (unit: Seconds).
   */
  OLDEST_UNPROCESSED_ITEM_AGE: 'OldestUnprocessedItemAge',
} as const;

/** The path under which runs keep their lease records: `<prefix>/<service>/<generation>`. */
export const RUN_LEASE_PATH_PREFIX = '/cdk-cross-region-config/runs';

/**
 * Environment variable that tells every handler's pacer Parameter Store's throughput setting:
 * `higher` when `parameterStoreThroughput` is `ParameterStoreThroughput.HIGHER`, absent otherwise.
 */
export const PARAMETER_STORE_THROUGHPUT_ENV = 'PARAMETER_STORE_THROUGHPUT';
