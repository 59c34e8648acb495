import { SSMClient } from '@aws-sdk/client-ssm';
import { DetectorSettings, DriftDetector } from './detector';
import { runScanPass, S3ScanPartStore, ScanCursor, ScanInvocationResult } from './pass';
import type {
  ConfigMapScopeConfig, IgnoreRuleConfig, ParameterOverrideConfig, ParameterReplicaKeyConfig, RemediationModeName, ReplicaTargetConfig,
  SelectionConfig,
} from '../../src/drift-detector/contract';
import { DEFAULT_REPORT_PREFIX, DriftEnv } from '../../src/drift-detector/contract';
import { ClientCache } from '../shared/clients';
import { ContinuationInvoker, LambdaSelfInvoker, readContinuation } from '../shared/continuation';
import { booleanEnv, integerEnv, requireEnv, requireJsonEnv } from '../shared/env';
import { KubernetesAccess } from '../shared/kubernetes';
import { leasePath, RunLease } from '../shared/lease';
import { logger, metrics } from '../shared/observability';
import { Pacer } from '../shared/pacing';
import { RemainingTime, RunBudget } from '../shared/run-budget';
import type { ConflictPolicyName } from '../shared/secrets/contract';
import { SettingsClient, withSettings } from '../shared/settings';

const REMEDIATION_MODES: readonly string[] = ['OFF', 'DRY_RUN', 'APPLY'];
const ACTIONS: readonly string[] = ['manual_check', 'scheduled_check'];
/** Longest grace window, in seconds (one day). */
const MAX_GRACE_WINDOW_SECONDS = 86_400;

/** Reads and checks the handler's configuration; throws naming the first bad variable. */
export function readSettings(env: NodeJS.ProcessEnv): DetectorSettings {
  const remediationMode = env[DriftEnv.REMEDIATION_MODE] ?? 'OFF';
  const conflictPolicy = env[DriftEnv.REMEDIATION_CONFLICT_POLICY] || 'PRIMARY_WINS';
  if (!['PRIMARY_WINS', 'SKIP_AND_ALARM'].includes(conflictPolicy)) {
    throw new Error(`environment variable ${DriftEnv.REMEDIATION_CONFLICT_POLICY} must be one of PRIMARY_WINS, SKIP_AND_ALARM, but got ${JSON.stringify(conflictPolicy)}`);
  }
  if (!REMEDIATION_MODES.includes(remediationMode)) {
    throw new Error(`environment variable ${DriftEnv.REMEDIATION_MODE} must be one of ${REMEDIATION_MODES.join(', ')}, but got ${JSON.stringify(remediationMode)}`);
  }
  const targets = requireJsonEnv<ReplicaTargetConfig[]>(DriftEnv.REPLICA_TARGETS, env);
  if (!Array.isArray(targets) || targets.some((t) => typeof t?.region !== 'string')) {
    throw new Error(`environment variable ${DriftEnv.REPLICA_TARGETS} must be a JSON array of {"region": ...}`);
  }
  const optionalJson = <T>(name: string, fallback: T): T => (env[name] ? requireJsonEnv<T>(name, env) : fallback);
  const selection = optionalJson<SelectionConfig | undefined>(DriftEnv.SECRET_SELECTION, undefined);
  if (selection !== undefined && !Array.isArray(selection?.rules)) {
    throw new Error(`environment variable ${DriftEnv.SECRET_SELECTION} must be JSON {"rules": [...]}`);
  }
  const stringArray = (name: string): string[] => {
    const value = optionalJson<unknown>(name, []);
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw new Error(`environment variable ${name} must be a JSON array of strings`);
    }
    return value as string[];
  };
  const configMapScopes = optionalJson<ConfigMapScopeConfig[]>(DriftEnv.CONFIGMAP_SCOPES, []);
  if (!Array.isArray(configMapScopes) || configMapScopes.some((s) => !s?.primary?.name || !Array.isArray(s.replicas) || !Array.isArray(s.names))) {
    throw new Error(`environment variable ${DriftEnv.CONFIGMAP_SCOPES} must be a JSON array of {"primary", "replicas", "namespace", "names"}`);
  }
  const ignoreRules = optionalJson<IgnoreRuleConfig[]>(DriftEnv.IGNORE_RULES, []);
  if (!Array.isArray(ignoreRules) || ignoreRules.some((r) => typeof r?.namePattern !== 'string' || !['secret', 'parameter', 'configmap'].includes(r.kind))) {
    throw new Error(`environment variable ${DriftEnv.IGNORE_RULES} must be a JSON array of {"kind", "namePattern"}`);
  }
  const parameterOverrides = optionalJson<ParameterOverrideConfig[]>(DriftEnv.PARAMETER_OVERRIDES, []);
  if (!Array.isArray(parameterOverrides)
    || parameterOverrides.some((o) => typeof o?.name !== 'string' || typeof o.region !== 'string' || typeof o.value !== 'string')) {
    // Value-free: the variable may hold declared values.
    throw new Error(`environment variable ${DriftEnv.PARAMETER_OVERRIDES} must be a JSON array of {"name", "region", "value"} strings`);
  }
  const parameterReplicaKeys = optionalJson<ParameterReplicaKeyConfig[] | undefined>(DriftEnv.PARAMETER_REPLICA_KEYS, undefined);
  if (parameterReplicaKeys !== undefined && (!Array.isArray(parameterReplicaKeys)
    || parameterReplicaKeys.some((k) => typeof k?.region !== 'string' || typeof k.kmsKeyId !== 'string' || k.kmsKeyId === ''))) {
    throw new Error(`environment variable ${DriftEnv.PARAMETER_REPLICA_KEYS} must be a JSON array of {"region", "kmsKeyId"} strings`);
  }
  return {
    primaryRegion: requireEnv(DriftEnv.PRIMARY_REGION, env),
    targets,
    selection,
    comparedTagKeys: stringArray(DriftEnv.COMPARED_TAG_KEYS),
    parameterPaths: stringArray(DriftEnv.PARAMETER_PATHS),
    parameterOverrides,
    ...(parameterReplicaKeys ? { parameterReplicaKeys } : {}),
    configMapScopes,
    ignoreRules,
    graceWindowSeconds: integerEnv(DriftEnv.GRACE_WINDOW_SECONDS, 600, 0, MAX_GRACE_WINDOW_SECONDS, env),
    reportExtraItems: booleanEnv(DriftEnv.REPORT_EXTRA_ITEMS, false, env),
    reportBucket: requireEnv(DriftEnv.REPORT_BUCKET, env),
    reportPrefix: env[DriftEnv.REPORT_PREFIX] ?? DEFAULT_REPORT_PREFIX,
    remediationMode: remediationMode as RemediationModeName,
    provenanceKeySecretArn: env[DriftEnv.PROVENANCE_KEY_SECRET_ARN] || undefined,
    ...(env[DriftEnv.DEPLOYMENT_ID] ? { deploymentId: env[DriftEnv.DEPLOYMENT_ID] } : {}),
    remediationConflictPolicy: conflictPolicy as ConflictPolicyName,
    remediationReplicateTags: booleanEnv(DriftEnv.REMEDIATION_REPLICATE_TAGS, true, env),
    excludedParameters: stringArray(DriftEnv.EXCLUDED_PARAMETERS),
    accountId: env[DriftEnv.ACCOUNT_ID] || undefined,
  };
}

/**
 * Which scan an invocation asks for: `{"action":"manual_check"}`, the schedule's
 * `{"action":"scheduled_check"}`, or an EventBridge scheduled event. Never echoes the payload.
 */
export function parseAction(payload: unknown): string {
  const event = (payload ?? {}) as Record<string, unknown>;
  if (typeof event.action === 'string') {
    if (!ACTIONS.includes(event.action)) {
      throw new Error(`unknown action ${JSON.stringify(event.action.slice(0, 64))}; expected one of ${ACTIONS.join(', ')}`);
    }
    return event.action;
  }
  if (event['detail-type'] === 'Scheduled Event') return 'scheduled_check';
  throw new Error(`unsupported invocation: expected {"action": one of ${ACTIONS.join(', ')}} or an EventBridge scheduled event`);
}

/** What the handler uses besides its configuration; tests replace parts of it. */
export interface DetectorRuntime {
  /** Sends continuations. @default - `LambdaSelfInvoker` (this function, InvocationType Event) */
  readonly invoker?: ContinuationInvoker;
  /** Paces AWS calls to the documented quotas. @default - `new Pacer()` */
  readonly pacer?: Pacer;
  /** The time budget of an invocation without a Lambda context. @default - unbounded */
  readonly budget?: () => RunBudget;
}

/**
 * Builds the Lambda handler; configuration is validated now (cold start), or on the first
 * invocation once the settings document is read (see `withSettings`). A scan that needs longer
 * than one invocation hands the rest over to the next (see `pass.ts`).
 */
export function createHandler(
  env: NodeJS.ProcessEnv = process.env, settingsClient?: SettingsClient, runtime: DetectorRuntime = {},
): (event: unknown, context?: RemainingTime) => Promise<ScanInvocationResult> {
  return withSettings(env, (complete) => buildHandler(complete, runtime), { client: settingsClient });
}

/** The lease and metrics name of a detector without `POWERTOOLS_SERVICE_NAME` (the construct always sets it). */
const DEFAULT_SERVICE_NAME = 'ConfigDriftDetector';

function buildHandler(env: NodeJS.ProcessEnv, runtime: DetectorRuntime): (event: unknown, context?: RemainingTime) => Promise<ScanInvocationResult> {
  const settings = readSettings(env);
  const clients = new ClientCache(settings.primaryRegion, undefined, runtime.pacer ?? new Pacer());
  const kubernetes = settings.configMapScopes.length > 0 ? new KubernetesAccess(clients) : undefined;
  const detector = new DriftDetector(settings, clients, kubernetes);
  const invoker = runtime.invoker ?? new LambdaSelfInvoker(settings.primaryRegion);
  const ssm = clients.get(SSMClient, { region: settings.primaryRegion });
  const lease = new RunLease(ssm, leasePath(env[DriftEnv.SERVICE_NAME] || DEFAULT_SERVICE_NAME));
  const readOnly = settings.remediationMode !== 'APPLY';
  const parts = new S3ScanPartStore(clients, settings.primaryRegion, settings.reportBucket, settings.reportPrefix);
  return async (event: unknown, context?: RemainingTime) => {
    try {
      const action = parseAction(event);
      const continuation = readContinuation<ScanCursor>(event);
      const budget = context?.getRemainingTimeInMillis ? RunBudget.fromContext(context) : runtime.budget?.() ?? RunBudget.unbounded();
      return await runScanPass({ detector, lease, invoker, budget, parts, readOnly }, continuation, action);
    } catch (e) {
      logger.error('drift scan failed', { errorName: (e as Error).name });
      throw e;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
