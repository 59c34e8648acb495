import { SSMClient } from '@aws-sdk/client-ssm';
import { SyncError } from './errors';
import { parseInvocation } from './events';
import { runSyncPass, SyncCursor, SyncPassFields } from './pass';
import { Rollout, RolloutSummary, WorkloadClients } from './rollout';
import { readRolloutConfig, readWorkloadSelectors } from './rollout-settings';
import { ClusterClients, ConfigMapSyncer, SyncerSettings, SyncSummary } from './syncer';
import type { RolloutConfig, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { SyncEnv } from '../../src/configmap-syncer/contract';
import { ClientCache } from '../shared/clients';
import { Pacer } from '../shared/pacing';
import { ContinuationInvoker, LambdaSelfInvoker, readContinuation } from '../shared/continuation';
import { booleanEnv, requireEnv, requireJsonEnv } from '../shared/env';
import { KubernetesAccess } from '../shared/kubernetes';
import { leasePath, RunLease } from '../shared/lease';
import { logger, metrics } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';
import { SettingsClient, withSettings } from '../shared/settings';

/** A Kubernetes namespace name (DNS-1123 label). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A ConfigMap name (DNS-1123 subdomain, at most 253 characters). */
const OBJECT_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Secrets Manager secret ARN, complete or partial. */
const SECRET_ARN = /^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

/** Reads and checks the handler's configuration; throws naming the first bad variable. */
export function readSettings(env: NodeJS.ProcessEnv): SyncerSettings {
  const parameterPath = env[SyncEnv.SOURCE_PARAMETER_PATH] || undefined;
  if (parameterPath !== undefined && !parameterPath.startsWith('/')) {
    throw new Error(`environment variable ${SyncEnv.SOURCE_PARAMETER_PATH} must be a parameter path starting with "/", but got ${JSON.stringify(parameterPath)}`);
  }
  const secretArn = env[SyncEnv.SOURCE_SECRET_ARN] || undefined;
  if (secretArn !== undefined && !SECRET_ARN.test(secretArn)) {
    throw new Error(`environment variable ${SyncEnv.SOURCE_SECRET_ARN} must be a Secrets Manager secret ARN, but got ${JSON.stringify(secretArn)}`);
  }
  if (parameterPath === undefined && secretArn === undefined) {
    throw new Error(`environment variables ${SyncEnv.SOURCE_PARAMETER_PATH} and ${SyncEnv.SOURCE_SECRET_ARN} are both unset; at least one source is required`);
  }
  const includeKeys = env[SyncEnv.INCLUDE_KEYS] ? requireJsonEnv<unknown>(SyncEnv.INCLUDE_KEYS, env) : [];
  if (!Array.isArray(includeKeys) || includeKeys.some((k) => typeof k !== 'string' || k === '')) {
    throw new Error(`environment variable ${SyncEnv.INCLUDE_KEYS} must be a JSON array of key names and globs`);
  }
  return {
    primaryRegion: requireEnv(SyncEnv.PRIMARY_REGION, env),
    ...(parameterPath !== undefined ? { parameterPath } : {}),
    ...(secretArn !== undefined ? { secretArn } : {}),
    targets: readTargets(env),
    includeKeys: includeKeys as string[],
    excludeSensitiveKeys: booleanEnv(SyncEnv.EXCLUDE_SENSITIVE_KEYS, true, env),
    forceConflicts: booleanEnv(SyncEnv.FORCE_CONFLICTS, false, env),
  };
}

/** The rollout settings, when some target names workloads (`ROLLOUT`); throws naming a bad value. */
export function readRollout(env: NodeJS.ProcessEnv): RolloutConfig | undefined {
  return readRolloutConfig(env);
}

function readTargets(env: NodeJS.ProcessEnv): SyncTargetConfig[] {
  const name = SyncEnv.TARGETS;
  const targets = requireJsonEnv<unknown>(name, env);
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new Error(`environment variable ${name} must be a non-empty JSON array of {"cluster", "namespace", "configMapName", "createNamespace"}`);
  }
  return targets.map((t: any, i): SyncTargetConfig => {
    const where = `environment variable ${name}[${i}]`;
    if (typeof t?.cluster?.name !== 'string' || t.cluster.name === '' || typeof t.cluster.region !== 'string' || t.cluster.region === '') {
      throw new Error(`${where} must have a cluster with a name and a region`);
    }
    if (typeof t.namespace !== 'string' || !NAMESPACE.test(t.namespace)) {
      throw new Error(`${where} must have a namespace that is a DNS-1123 label, but got ${JSON.stringify(t.namespace)}`);
    }
    if (typeof t.configMapName !== 'string' || !OBJECT_NAME.test(t.configMapName)) {
      throw new Error(`${where} must have a configMapName that is a DNS-1123 subdomain, but got ${JSON.stringify(t.configMapName)}`);
    }
    if (t.createNamespace !== undefined && typeof t.createNamespace !== 'boolean') {
      throw new Error(`${where} must have a boolean createNamespace, but got ${JSON.stringify(t.createNamespace)}`);
    }
    const workloads = readWorkloadSelectors(t.workloads, where, t.configMapName);
    return {
      cluster: t.cluster,
      namespace: t.namespace,
      configMapName: t.configMapName,
      createNamespace: t.createNamespace ?? false,
      ...(workloads ? { workloads } : {}),
    };
  });
}

/** Clients the handler would otherwise create itself; tests pass their own (a clock, a token cache). */
export interface SyncerDependencies {
  /** @default - a new ClientCache for the primary region */
  readonly clients?: ClientCache;
  /** @default - a new KubernetesAccess over `clients` */
  readonly kubernetes?: ClusterClients;
  /** @default - an SSMClient for AWS_REGION */
  readonly settingsClient?: SettingsClient;
  /** Clients of the workload rollout. @default - `kubernetes` */
  readonly workloads?: WorkloadClients;
  /** Pause between the rollout's passes in one invocation (ms). @default 5000 */
  readonly rolloutPollIntervalMs?: number;
  /** Sends continuations. @default - `LambdaSelfInvoker` (this function, InvocationType Event) */
  readonly invoker?: ContinuationInvoker;
  /** The time budget of an invocation without a Lambda context. @default - unbounded */
  readonly budget?: () => RunBudget;
}

/** The lease name of a syncer without `POWERTOOLS_SERVICE_NAME` (the construct always sets it). */
const DEFAULT_SERVICE_NAME = 'ConfigMapSyncer';

/** The summary of an invocation: the sync's, and the rollout's when some target names workloads. */
export type HandlerSummary = SyncSummary & Partial<SyncPassFields> & { readonly rollout?: RolloutSummary };

/** Time an invocation keeps for itself after the rollout's last pass (ms). */
const ROLLOUT_MARGIN_MS = 15_000;

/**
 * Builds the Lambda handler; configuration is validated now (cold start), or on the first
 * invocation once the settings document is read (see `withSettings`). A change event whose
 * sync failed for any target throws once every target was tried, so Lambda retries it and then
 * dead-letters it; `sync` and `test_sync` report failures in the summary (and `sync` in metrics),
 * and the next scheduled sync retries them.
 */
export function createHandler(env: NodeJS.ProcessEnv = process.env, dependencies: SyncerDependencies = {}): SyncHandler {
  return withSettings(env, (complete) => buildHandler(complete, dependencies), { client: dependencies.settingsClient });
}

/** The part of the Lambda context the handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** The handler: an event (and Lambda's context) in, the value-free summary out. */
export type SyncHandler = (event: unknown, context?: LambdaContext) => Promise<HandlerSummary>;

function buildHandler(env: NodeJS.ProcessEnv, dependencies: SyncerDependencies): SyncHandler {
  const settings = readSettings(env);
  const rolloutConfig = readRollout(env);
  // Paced like every handler that reads Parameter Store: the source listing, the run lease and the settings share its quota.
  const clients = dependencies.clients ?? new ClientCache(settings.primaryRegion, undefined, new Pacer());
  const kubernetes = dependencies.kubernetes ?? new KubernetesAccess(clients);
  const syncer = new ConfigMapSyncer(settings, clients, kubernetes);
  const invoker = dependencies.invoker ?? new LambdaSelfInvoker(settings.primaryRegion);
  const ssm = clients.get(SSMClient, { region: settings.primaryRegion });
  const lease = new RunLease(ssm, leasePath(env[SyncEnv.SERVICE_NAME] || DEFAULT_SERVICE_NAME));
  const budgetOf = (context: LambdaContext | undefined) => (context?.getRemainingTimeInMillis
    ? RunBudget.fromContext(context)
    : dependencies.budget?.() ?? RunBudget.unbounded());
  const rollout = rolloutConfig && new Rollout(rolloutConfig, settings.primaryRegion, settings.targets,
    dependencies.workloads ?? (kubernetes as unknown as WorkloadClients), { pollIntervalMs: dependencies.rolloutPollIntervalMs });
  return async (event: unknown, context?: LambdaContext) => {
    const started = Date.now();
    try {
      const invocation = parseInvocation(event, settings);
      if (invocation.kind === 'ignored') {
        logger.info('event ignored', { trigger: invocation.trigger, reason: invocation.reason });
        return { action: 'ignored', trigger: invocation.trigger, reason: invocation.reason, targets: [], durationMs: Date.now() - started };
      }
      // A sync holds the run lease, stops in time and hands the rest over (pass.ts); a dry run does neither.
      const synced: SyncSummary & Partial<SyncPassFields> = invocation.action === 'test_sync'
        ? await syncer.sync(invocation)
        : await runSyncPass({ syncer, lease, invoker, budget: budgetOf(context), targetCount: settings.targets.length },
          invocation, readContinuation<SyncCursor>(event));
      // The rollout follows the last invocation of a sync, when every target has its content.
      const rollsOut = rollout && !synced.skipped && !synced.partial;
      const summary: HandlerSummary = rollsOut
        ? { ...synced, rollout: await rolloutAfterSync(rollout, rolloutConfig!, syncer, invocation.action, started, context) }
        : synced;
      const failures = summary.targets.filter((t) => t.outcome === 'failed');
      if (invocation.failOnError && failures.length > 0) {
        throw new SyncError('SyncFailed', `sync after ${invocation.trigger} failed for ${failures.length} of ${summary.targets.length} targets: `
          + failures.map((f) => `${f.region}/${f.cluster} ${f.namespace}/${f.configMapName} (${f.errorName})`).join(', '));
      }
      return summary;
    } catch (e) {
      // Our own errors are value-free by construction; anything else is reduced to its name.
      logger.error('configmap sync invocation failed', { errorName: (e as Error).name, ...(e instanceof SyncError ? { errorMessage: e.message } : {}) });
      throw e;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/**
 * The rollout after a sync: test_sync's plan for the content hash it computed, otherwise passes
 * until nothing is in progress, for at most `pollSeconds` and the invocation's remaining time.
 */
async function rolloutAfterSync(
  rollout: Rollout, config: RolloutConfig, syncer: ConfigMapSyncer, action: string, started: number, context?: LambdaContext,
): Promise<RolloutSummary> {
  if (action === 'test_sync') return rollout.plan(syncer.preparedHash);
  const byConfig = started + config.pollSeconds * 1000;
  const byContext = context ? Date.now() + context.getRemainingTimeInMillis() - ROLLOUT_MARGIN_MS : Infinity;
  return rollout.run(Math.min(byConfig, byContext));
}
