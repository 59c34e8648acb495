import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { connectivityReport, RegionReport } from './connectivity';
import { parseInvocation } from './events';
import { FullSyncTracker } from './full-sync';
import { inSyncEverywhere, recordLastSync } from './last-sync';
import { PassSummary, ReconcilePassCursor, runReconcilePass } from './pass';
import type { ConflictPolicyName, ReplicaTargetConfig, SelectionConfig } from '../../src/secret-replicator/contract';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { ClientCache } from '../shared/clients';
import { ContinuationInvoker, LambdaSelfInvoker, readContinuation } from '../shared/continuation';
import { booleanEnv, integerEnv, requireEnv, requireJsonEnv } from '../shared/env';
import { KeyedHasher } from '../shared/hmac';
import { leasePath, RunLease } from '../shared/lease';
import { errorFields, logger, metrics } from '../shared/observability';
import { Pacer } from '../shared/pacing';
import { RemainingTime, RunBudget } from '../shared/run-budget';
import { ReplicatorSettings, RunSummary, SecretReplicator, summarize } from '../shared/secrets/replicator';
import { SettingsClient, withSettings } from '../shared/settings';

const CONFLICT_POLICIES: readonly string[] = ['PRIMARY_WINS', 'SKIP_AND_ALARM'];

/** Reads and checks the handler's configuration; throws naming the first bad variable. */
export function readSettings(env: NodeJS.ProcessEnv): ReplicatorSettings {
  const conflictPolicy = env[ReplicatorEnv.CONFLICT_POLICY] ?? 'PRIMARY_WINS';
  if (!CONFLICT_POLICIES.includes(conflictPolicy)) {
    throw new Error(`environment variable ${ReplicatorEnv.CONFLICT_POLICY} must be one of ${CONFLICT_POLICIES.join(', ')}, but got ${JSON.stringify(conflictPolicy)}`);
  }
  const targets = requireJsonEnv<ReplicaTargetConfig[]>(ReplicatorEnv.REPLICA_TARGETS, env);
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t?.region !== 'string')) {
    throw new Error(`environment variable ${ReplicatorEnv.REPLICA_TARGETS} must be a non-empty JSON array of {"region": ...}`);
  }
  const selection = requireJsonEnv<SelectionConfig>(ReplicatorEnv.SELECTION, env);
  if (!Array.isArray(selection?.rules)) {
    throw new Error(`environment variable ${ReplicatorEnv.SELECTION} must be JSON {"rules": [...]}`);
  }
  return {
    primaryRegion: requireEnv(ReplicatorEnv.PRIMARY_REGION, env),
    targets,
    selection,
    conflictPolicy: conflictPolicy as ConflictPolicyName,
    replicateTags: booleanEnv(ReplicatorEnv.REPLICATE_TAGS, true, env),
    propagateDeletions: booleanEnv(ReplicatorEnv.PROPAGATE_DELETIONS, false, env),
    // Secrets Manager accepts recovery windows of 7 to 30 days.
    deletionRecoveryWindowDays: integerEnv(ReplicatorEnv.DELETION_RECOVERY_WINDOW_DAYS, 7, 7, 30, env),
    provenanceKeySecretArn: requireEnv(ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN, env),
    ...(env[ReplicatorEnv.DEPLOYMENT_ID] ? { deploymentId: env[ReplicatorEnv.DEPLOYMENT_ID] } : {}),
    ...(env[ReplicatorEnv.CONFIG_PARAMETER_NAME] ? { configParameterName: readParameterName(env) } : {}),
  };
}

function readParameterName(env: NodeJS.ProcessEnv): string {
  const name = env[ReplicatorEnv.CONFIG_PARAMETER_NAME]!;
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(name)) {
    throw new Error(`environment variable ${ReplicatorEnv.CONFIG_PARAMETER_NAME} must be a parameter name starting with "/", but got ${JSON.stringify(name)}`);
  }
  return name;
}

/** What the handler returns: a value-free summary or the connectivity report. */
export type HandlerResult = RunSummary | PassSummary | { readonly action: 'connectivity_test'; readonly regions: readonly RegionReport[] };

/**
 * What the handler uses besides its configuration; tests and benchmarks replace parts of it.
 */
export interface HandlerRuntime {
  /** Sends continuations. @default - `LambdaSelfInvoker` (this function, InvocationType Event) */
  readonly invoker?: ContinuationInvoker;
  /** Paces AWS calls to the documented quotas. @default - `new Pacer()` */
  readonly pacer?: Pacer;
  /** The time budget of an invocation without a Lambda context. @default - unbounded */
  readonly budget?: () => RunBudget;
}

/**
 * Builds the Lambda handler. Configuration is validated now (cold start), or on the first invocation
 * once the settings document is read (see `withSettings`); the provenance HMAC key
 * is read from the primary once, on first use, and kept for the life of the environment.
 */
export function createHandler(
  env: NodeJS.ProcessEnv = process.env, settingsClient?: SettingsClient, runtime: HandlerRuntime = {},
): (event: unknown, context?: RemainingTime) => Promise<HandlerResult> {
  return withSettings(env, (complete) => buildHandler(complete, runtime), { client: settingsClient });
}

function buildHandler(env: NodeJS.ProcessEnv, runtime: HandlerRuntime): (event: unknown, context?: RemainingTime) => Promise<HandlerResult> {
  const settings = readSettings(env);
  const clients = new ClientCache(settings.primaryRegion, undefined, runtime.pacer ?? new Pacer());
  const invoker = runtime.invoker ?? new LambdaSelfInvoker(settings.primaryRegion);
  const lease = new RunLease(clients.get(SSMClient, { region: settings.primaryRegion }), leasePath(requireEnv(ReplicatorEnv.SERVICE_NAME, env)));
  const budgetOf = (context: RemainingTime | undefined) => (context?.getRemainingTimeInMillis
    ? RunBudget.fromContext(context)
    : runtime.budget?.() ?? RunBudget.unbounded());
  const fullSync = new FullSyncTracker();
  let replicator: Promise<SecretReplicator> | undefined;
  const getReplicator = () => {
    replicator ??= clients.get(SecretsManagerClient, { region: settings.primaryRegion })
      .send(new GetSecretValueCommand({ SecretId: settings.provenanceKeySecretArn }))
      .then((key) => new SecretReplicator(settings, clients, new KeyedHasher(key.SecretString ?? '')))
      .catch((e) => {
        replicator = undefined; // let the next invocation try again
        throw e;
      });
    return replicator;
  };

  // A sync that succeeded everywhere moves the document's lastSyncTimestamp; failing to do so is
  // logged and never fails the replication.
  const noteSync = async (at: Date) => {
    if (settings.configParameterName === undefined) return;
    try {
      const own = { primaryRegion: settings.primaryRegion, replicationRegions: settings.targets.map((t) => t.region) };
      const outcome = await recordLastSync(clients.get(SSMClient, { region: settings.primaryRegion }), settings.configParameterName, at, own);
      if (outcome === 'not-a-document' || outcome === 'other-settings') {
        logger.warn('lastSyncTimestamp not updated', { parameter: settings.configParameterName, reason: outcome });
      }
    } catch (e) {
      logger.warn('lastSyncTimestamp not updated', { parameter: settings.configParameterName, ...errorFields(e) });
    }
  };

  return async (event: unknown, context?: RemainingTime) => {
    const started = Date.now();
    try {
      const continuation = readContinuation<ReconcilePassCursor>(event);
      const invocation = parseInvocation(event);
      switch (invocation.kind) {
        case 'ignored':
          logger.info('event ignored', { reason: invocation.reason });
          return summarize('ignored', [], started, false);
        case 'change': {
          const { change } = invocation;
          const results = await (await getReplicator()).syncOne(change.secretId, { change: change.kind });
          const summary = summarize(change.eventName, results, started, false);
          logger.info('change replicated', { eventName: change.eventName, ...summary });
          if (summary.failures.length > 0) {
            // Fail the invocation so Lambda retries it and, after the retries, dead-letters it.
            // A retry is cheap: targets already in sync are left alone.
            throw new Error(`replication of ${results[0].secretName} failed in ${summary.failures.map((f) => f.region).join(', ')}`);
          }
          if (inSyncEverywhere(results, true)) await noteSync(new Date());
          return summary;
        }
        case 'manual': {
          if (invocation.action === 'connectivity_test') {
            const regions = await connectivityReport(clients, settings.primaryRegion, settings.targets, settings.provenanceKeySecretArn);
            logger.info('connectivity test', { regions });
            return { action: 'connectivity_test', regions };
          }
          const budget = budgetOf(context);
          if (invocation.action === 'reconcile') {
            // A pass: holds the run lease, stops in time and hands the rest over (pass.ts).
            const regions = settings.targets.map((t) => t.region);
            const deps = { replicator: await getReplicator(), lease, invoker, budget, fullSync, regions };
            const passSummary = await runReconcilePass(deps, continuation, started);
            if (passSummary.pass?.agreed) await noteSync(new Date());
            return passSummary;
          }
          // A rehearsal (test_sync): no lease, no hand-over; it reports what it reached.
          const progress = await (await getReplicator()).reconcileWithin(budget, undefined, { dryRun: true });
          const summary = { ...summarize(invocation.action, progress.results, started, true), partial: progress.next !== undefined };
          logger.info('reconciliation rehearsed', { ...summary });
          return summary;
        }
      }
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
