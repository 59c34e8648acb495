/**
 * The contract between the MultiRegionPipeline construct and its Lambda handlers: environment
 * variable names, the JSON shapes they carry, the action parameters, metric and dimension names.
 * Internal: not exported from the package entry point. The handlers import it as types and
 * constants only.
 *
 * One bundle serves three functions, each with its own least-privilege role; `PipelineEnv.ROLE`
 * tells the entry point which one it is, and it refuses events meant for another.
 */

/** The three functions of a pipeline. */
export const PipelineFunctionRole = {
  /** A CodePipeline Lambda invoke action: HTTP health checks of one region (and slot). */
  HEALTH_CHECK: 'health-check',
  /** A CodePipeline Lambda invoke action: moves one region's traffic to a slot. */
  TRAFFIC_SWITCH: 'traffic-switch',
  /** An EventBridge target: counts failed executions and coordinates cross-region rollback. */
  PIPELINE_WATCHER: 'pipeline-watcher',
} as const;
export type PipelineFunctionRoleName = typeof PipelineFunctionRole[keyof typeof PipelineFunctionRole];

/** Environment variables the construct sets on the pipeline's handlers. */
export const PipelineEnv = {
  /** Which function this is: a `PipelineFunctionRole` value. */
  ROLE: 'PIPELINE_FUNCTION_ROLE',
  /** Health check: JSON `HttpCheckConfig[]`; URLs may hold the `{region}` and `{slot}` placeholders. */
  HEALTH_CHECKS: 'HEALTH_CHECKS',
  /** Traffic switch: JSON `TrafficSwitchConfig`. */
  TRAFFIC_SWITCH: 'TRAFFIC_SWITCH',
  /** Watcher: name of the pipeline it watches. */
  PIPELINE_NAME: 'PIPELINE_NAME',
  /** Watcher: JSON `RegionalStageConfig[]`, in deployment order (the primary region first). */
  REGIONAL_STAGES: 'REGIONAL_STAGES',
  /** Watcher: `true` or `false`: roll back regions promoted earlier in an execution when a later one fails. */
  COORDINATED_ROLLBACK: 'COORDINATED_ROLLBACK',
  /** Watcher: ARN of the SNS topic the rollback outcome is published to; absent when none. */
  NOTIFICATION_TOPIC_ARN: 'NOTIFICATION_TOPIC_ARN',
  /**
   * Watcher: Parameter Store path under which it claims each stage rollback (one record per failed
   * execution and stage); set when coordinated rollback is on.
   */
  ROLLBACK_CLAIMS_PATH: 'ROLLBACK_CLAIMS_PATH',
  /** CloudWatch namespace for the EMF metrics (read by Powertools Metrics). */
  METRIC_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Value of the `service` dimension on every metric (read by Powertools). */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Placeholders a health-check URL, a record name or a parameter name may contain. */
export const REGION_PLACEHOLDER = '{region}';
export const SLOT_PLACEHOLDER = '{slot}';

/** The two slots of a region under blue-green: `blue` is the home slot, `green` the candidate. */
export type SlotName = 'blue' | 'green';
export const HOME_SLOT: SlotName = 'blue';
export const CANDIDATE_SLOT: SlotName = 'green';

/** One HTTP health check, as the handler runs it. */
export interface HttpCheckConfig {
  /** Display name (unique among the checks); used in logs, results and metrics. */
  readonly name: string;
  /** `http://` or `https://` URL, possibly with `{region}` and `{slot}`. */
  readonly url: string;
  /** HTTP statuses that count as healthy. */
  readonly expectedStatuses: number[];
  /** Healthy responses in a row needed to pass. */
  readonly consecutiveSuccesses: number;
  /** Requests in total before the check fails (at least `consecutiveSuccesses`). */
  readonly maxAttempts: number;
  /** Pause between two requests, in seconds. */
  readonly intervalSeconds: number;
  /** Time a request may take before it counts as failed (connect to last byte), in seconds. */
  readonly timeoutSeconds: number;
  /** A healthy status that took longer than this counts as a failure (slow), in milliseconds; absent: no latency limit. */
  readonly latencyThresholdMs?: number;
  /** Request headers whose values come from Secrets Manager at run time; absent: none. */
  readonly headers?: SecretHeaderConfig[];
}

/** A request header whose value the handler reads from a secret (once per cold start). */
export interface SecretHeaderConfig {
  /** Header name (an HTTP token). */
  readonly name: string;
  /** ARN of the secret; its region is where the handler reads it. */
  readonly secretArn: string;
  /** JSON field of the secret's SecretString holding the value; absent: the whole SecretString. */
  readonly jsonField?: string;
  /** Text sent before the secret's value, such as `Bearer `; absent: none. */
  readonly prefix?: string;
}

/**
 * `UserParameters` of a health-check action (JSON; CodePipeline allows 1,000 characters, so the
 * checks themselves travel in the function's environment).
 */
export interface HealthCheckActionParameters {
  readonly region: string;
  /** Slot under blue-green; absent otherwise. */
  readonly slot?: SlotName;
}

/** `UserParameters` of a traffic-switch action (JSON). */
export interface TrafficSwitchActionParameters {
  readonly region: string;
  /** Slot to send the region's traffic to. In a rollback execution the switch sends it to `HOME_SLOT` instead. */
  readonly slot: SlotName;
}

/**
 * How a region's traffic is moved between its slots.
 * - `route53-weighted`: a pair of weighted records of the same name and type, one per slot (set
 *   identifiers `setIdentifiers.blue` and `.green`); the live one gets `liveWeight`, the other 0. One
 *   atomic change batch, then the switch waits until Route 53 reports it INSYNC.
 * - `ssm-parameter`: a String parameter in the region whose value is the live slot's name, for
 *   applications that route themselves.
 */
export type TrafficSwitchConfig = Route53WeightedSwitchConfig | SsmParameterSwitchConfig;

export interface Route53WeightedSwitchConfig {
  readonly type: 'route53-weighted';
  readonly hostedZoneId: string;
  /** Fully qualified record name, possibly with `{region}`; a trailing dot is optional. */
  readonly recordName: string;
  /** Record type of the pair (A, AAAA, CNAME, ...). */
  readonly recordType: string;
  readonly setIdentifiers: { readonly blue: string; readonly green: string };
  /** Weight of the live record (1 to 255; 0 on both would split traffic evenly); the standby record gets 0. */
  readonly liveWeight: number;
}

export interface SsmParameterSwitchConfig {
  readonly type: 'ssm-parameter';
  /** Parameter name, possibly with `{region}`; written in the region it belongs to. */
  readonly parameterName: string;
}

/** Output variables of a successful traffic-switch action (namespace per action). */
export const TrafficSwitchVariable = {
  LIVE_SLOT: 'LiveSlot',
  PREVIOUS_SLOT: 'PreviousSlot',
} as const;

/** The pipeline stages that belong to one region, as the watcher reads them. */
export interface RegionalStageConfig {
  readonly region: string;
  /** Every stage of the region, in order. */
  readonly stages: string[];
  /**
   * The stages to roll back (to the last successful execution) when the region was promoted in an
   * execution that then failed in a later region, in the order to roll them back.
   */
  readonly rollbackStages: string[];
}

/**
 * Metrics the handlers emit (EMF, through Powertools Metrics), each with the dimension `service`;
 * the per-region ones also once with `service` and `Region`.
 */
export const PipelineMetric = {
  /** A region's health-check action passed (per region). */
  HEALTH_CHECK_PASSED: 'HealthCheckPassed',
  /** A region's health-check action failed (per region). */
  HEALTH_CHECK_FAILED: 'HealthCheckFailed',
  /** Latency of each health-check request, in milliseconds (per region). */
  HEALTH_CHECK_LATENCY: 'HealthCheckLatency',
  /** A region's traffic was moved to a slot (per region). */
  TRAFFIC_SWITCHED: 'TrafficSwitched',
  /** A traffic switch failed (per region). */
  TRAFFIC_SWITCH_FAILED: 'TrafficSwitchFailed',
  /** A pipeline execution failed. */
  PIPELINE_EXECUTION_FAILED: 'PipelineExecutionFailed',
  /**
   * A regional stage started a rollback execution (per region): CodePipeline's automatic rollback
   * (`onFailure`), a coordinated one or a manual one.
   */
  ROLLBACK_PERFORMED: 'RollbackPerformed',
  /** A stage rollback the coordinator wanted could not be started (per region). */
  ROLLBACK_FAILED: 'RollbackFailed',
} as const;

/** Dimension of the per-region metrics. */
export const REGION_DIMENSION = 'Region';
