import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { connectivityReport, RegionReport } from './connectivity';
import { CarriedCursor, parseCursor, resolveCursor, UnusableCursor } from './cursor';
import { MalformedInvocation, parseInvocation } from './events';
import { emitFullSyncAges, FullSyncTracker, IN_SYNC } from './full-sync';
import type {
  ConflictPolicyName, ParameterOverrideConfig, ParameterReplicaTargetConfig, ParameterSelectionConfig,
} from '../../src/parameter-replicator/contract';
import {
  DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND, MIN_WRITES_PER_SECOND, ParameterReplicatorEnv as Env, ParameterReplicatorMetric,
} from '../../src/parameter-replicator/contract';
import { ClientCache } from '../shared/clients';
import { ContinuationInvoker, LambdaSelfInvoker, PassState, readContinuation } from '../shared/continuation';
import { booleanEnv, ConfigurationError, integerEnv, requireEnv } from '../shared/env';
import { KeyedHasher } from '../shared/hmac';
import { recordLastSync } from '../shared/last-sync';
import { leasePath, RunLease } from '../shared/lease';
import { errorFields, logger, metrics, MetricUnit } from '../shared/observability';
import { Pacer } from '../shared/pacing';
import {
  ParameterOutcome, ParameterReplicator, ParameterReplicatorSettings, ParameterResult, ReconcileCursor,
} from '../shared/parameters/replicator';
import { RemainingTime, RunBudget } from '../shared/run-budget';
import { CarriedPass, PassOutcome, runPass } from '../shared/run-pass';
import { SettingsClient, withSettings } from '../shared/settings';

const CONFLICT_POLICIES: readonly string[] = ['PRIMARY_WINS', 'SKIP_AND_ALARM'];
const TIERS: readonly string[] = ['Standard', 'Advanced', 'Intelligent-Tiering'];
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Parses a JSON variable without ever quoting its text (it may carry parameter values). */
function jsonEnv(name: string, env: NodeJS.ProcessEnv): unknown {
  const raw = requireEnv(name, env);
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`environment variable ${name} must be JSON`);
  }
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function readTargets(env: NodeJS.ProcessEnv): ParameterReplicaTargetConfig[] {
  const name = Env.REPLICA_TARGETS;
  const targets = jsonEnv(name, env);
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new ConfigurationError(`environment variable ${name} must be a non-empty JSON array of {"region", "kmsKeyId"?, "roleArn"?, "tier"?}`);
  }
  const seen = new Set<string>();
  targets.forEach((t: any, i) => {
    if (typeof t?.region !== 'string' || !REGION.test(t.region)) throw new ConfigurationError(`environment variable ${name}[${i}].region must be a region name such as eu-west-1`);
    for (const field of ['kmsKeyId', 'roleArn']) {
      if (t[field] !== undefined && (typeof t[field] !== 'string' || t[field] === '')) throw new ConfigurationError(`environment variable ${name}[${i}].${field} must be a non-empty string when set`);
    }
    if (t.tier !== undefined && !TIERS.includes(t.tier)) throw new ConfigurationError(`environment variable ${name}[${i}].tier must be one of ${TIERS.join(', ')} when set`);
    const key = `${t.region}|${t.roleArn ?? ''}`;
    if (seen.has(key)) throw new ConfigurationError(`environment variable ${name}[${i}] repeats region ${t.region}${t.roleArn ? ' with the same role' : ''}`);
    seen.add(key);
  });
  return targets as ParameterReplicaTargetConfig[];
}

function readSelection(env: NodeJS.ProcessEnv): ParameterSelectionConfig {
  const name = Env.SELECTION;
  const s = jsonEnv(name, env) as any;
  if (s === null || typeof s !== 'object' || !isStringArray(s.paths) || s.paths.length === 0 || s.paths.some((p: string) => !p.startsWith('/'))) {
    throw new ConfigurationError(`environment variable ${name} must be JSON {"paths": [at least one path starting with "/"], "namePatterns"?, "tags"?, "excludedPaths"?}`);
  }
  if (s.namePatterns !== undefined && !isStringArray(s.namePatterns)) throw new ConfigurationError(`environment variable ${name}.namePatterns must be an array of strings`);
  if (s.excludedPaths !== undefined && (!isStringArray(s.excludedPaths) || s.excludedPaths.some((p: string) => !p.startsWith('/')))) {
    throw new ConfigurationError(`environment variable ${name}.excludedPaths must be an array of paths starting with "/"`);
  }
  if (s.tags !== undefined && (s.tags === null || typeof s.tags !== 'object' || Array.isArray(s.tags) || Object.values(s.tags).some((v) => typeof v !== 'string'))) {
    throw new ConfigurationError(`environment variable ${name}.tags must be an object of tag key to string value`);
  }
  return s as ParameterSelectionConfig;
}

function readOverrides(env: NodeJS.ProcessEnv, targets: readonly ParameterReplicaTargetConfig[]): ParameterOverrideConfig[] {
  const name = Env.OVERRIDES;
  if (env[name] === undefined || env[name] === '') return [];
  const overrides = jsonEnv(name, env);
  if (!Array.isArray(overrides)) throw new ConfigurationError(`environment variable ${name} must be a JSON array of {"name", "region", "value"}`);
  const regions = new Set(targets.map((t) => t.region));
  const seen = new Set<string>();
  overrides.forEach((o: any, i) => {
    if (typeof o?.name !== 'string' || typeof o.region !== 'string' || typeof o.value !== 'string' || o.value === '') {
      throw new ConfigurationError(`environment variable ${name}[${i}] must be {"name", "region", "value"} with a non-empty value`);
    }
    if (!regions.has(o.region)) throw new ConfigurationError(`environment variable ${name}[${i}] names region ${o.region}, which is not a replica region`);
    const key = `${o.name}\u0000${o.region}`;
    if (seen.has(key)) throw new ConfigurationError(`environment variable ${name}[${i}] repeats parameter ${o.name} in ${o.region}`);
    seen.add(key);
  });
  return overrides as ParameterOverrideConfig[];
}

/** The handler's settings: the engine's, and what the handler itself needs. */
export interface HandlerSettings extends ParameterReplicatorSettings {
  readonly provenanceKeySecretArn: string;
  /** The cross-region-config parameter whose `lastSyncTimestamp` the handler keeps current, if any. */
  readonly configParameterName?: string;
}

/** Reads and checks the handler's configuration; throws a `ConfigurationError` naming the first bad variable (never a value). */
export function readSettings(env: NodeJS.ProcessEnv): HandlerSettings {
  const conflictPolicy = env[Env.CONFLICT_POLICY] || 'PRIMARY_WINS';
  if (!CONFLICT_POLICIES.includes(conflictPolicy)) {
    throw new ConfigurationError(`environment variable ${Env.CONFLICT_POLICY} must be one of ${CONFLICT_POLICIES.join(', ')}, but got ${JSON.stringify(conflictPolicy.slice(0, 64))}`);
  }
  const primaryRegion = requireEnv(Env.PRIMARY_REGION, env);
  if (!REGION.test(primaryRegion)) throw new ConfigurationError(`environment variable ${Env.PRIMARY_REGION} must be a region name such as us-east-1`);
  const targets = readTargets(env);
  return {
    primaryRegion,
    targets,
    selection: readSelection(env),
    overrides: readOverrides(env, targets),
    conflictPolicy: conflictPolicy as ConflictPolicyName,
    replicateTags: booleanEnv(Env.REPLICATE_TAGS, true, env),
    propagateDeletions: booleanEnv(Env.PROPAGATE_DELETIONS, false, env),
    writesPerSecond: integerEnv(Env.WRITES_PER_SECOND, DEFAULT_WRITES_PER_SECOND, MIN_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND, env),
    provenanceKeySecretArn: requireEnv(Env.PROVENANCE_KEY_SECRET_ARN, env),
    ...(env[Env.DEPLOYMENT_ID] ? { deploymentId: env[Env.DEPLOYMENT_ID] } : {}),
    ...(env[Env.CONFIG_PARAMETER_NAME] ? { configParameterName: readParameterName(env) } : {}),
  };
}

function readParameterName(env: NodeJS.ProcessEnv): string {
  const name = env[Env.CONFIG_PARAMETER_NAME]!;
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(name)) {
    throw new ConfigurationError(`environment variable ${Env.CONFIG_PARAMETER_NAME} must be a parameter name starting with "/", but got ${JSON.stringify(name.slice(0, 2048))}`);
  }
  return name;
}

/** The value-free summary every action returns. */
export interface RunSummary {
  readonly action: string;
  readonly parameters: number;
  readonly outcomes: Partial<Record<ParameterOutcome, number>>;
  readonly failures: readonly ParameterResult[];
  readonly durationMs: number;
  readonly dryRun: boolean;
  /** False when a reconciliation stopped early; `cursor` says where to resume. */
  readonly complete: boolean;
  readonly cursor?: ReconcileCursor;
}

export function summarize(
  action: string, results: readonly ParameterResult[], startedAt: number, dryRun: boolean, cursor?: ReconcileCursor,
): RunSummary {
  const outcomes: Partial<Record<ParameterOutcome, number>> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return {
    action,
    parameters: new Set(results.map((r) => r.parameterName)).size,
    outcomes,
    failures: results.filter((r) => r.outcome === 'failed'),
    durationMs: Date.now() - startedAt,
    dryRun,
    complete: cursor === undefined,
    ...(cursor ? { cursor } : {}),
  };
}

/** The totals of a reconciliation across its invocations, as a continuation carries them (value-free). */
export interface ReconcileTotals {
  readonly outcomes: Partial<Record<ParameterOutcome, number>>;
  /** Replica regions that disagreed (or could not be listed) in an invocation of the reconciliation. */
  readonly disagreed: readonly string[];
  /** Last full agreement per replica region known when the reconciliation was handed over (ms since the epoch). */
  readonly lastAgreedAt: Readonly<Record<string, number>>;
}

/**
 * The summary of one invocation of a reconciliation (`{"action":"reconcile"}`): its own results,
 * and (`pass`) the reconciliation's across the invocations it took so far.
 */
export interface ReconcileSummary extends RunSummary {
  /** True when the invocation stopped before the end of the reconciliation (handed over, or could not). */
  readonly partial: boolean;
  /** (parameter, replica region) pairs worked by this invocation. */
  readonly processed: number;
  /**
   * Set when this invocation did nothing: another run held the run lease, this continuation was
   * delivered before, or its cursor could not be used (the replica targets changed since it was
   * sent; the next scheduled reconciliation starts over).
   */
  readonly skipped?: 'lease-held' | 'stale-continuation' | 'unusable-continuation';
  readonly pass?: NonNullable<PassOutcome<ReconcileTotals>['pass']> & {
    readonly outcomes: Partial<Record<ParameterOutcome, number>>;
    /** True when the reconciliation completed and every replica region agreed in every invocation of it. */
    readonly agreed: boolean;
  };
}

/** What the handler returns: a value-free summary or the connectivity report. */
export type HandlerResult = RunSummary | ReconcileSummary | { readonly action: 'connectivity_test'; readonly regions: readonly RegionReport[] };

/** Options of `createHandler`. */
export interface HandlerOptions {
  /** Client for the settings document. @default - an SSMClient for AWS_REGION */
  readonly settingsClient?: SettingsClient;
  /**
   * Asked by a reconciliation before each region and parameter; `false` stops it there and the
   * summary carries the cursor (see `ReconcileOptions.shouldContinue`). @default - never stops
   */
  readonly shouldContinue?: () => boolean;
  /** Sends the continuation of a reconciliation. @default - `LambdaSelfInvoker` (this function, InvocationType Event) */
  readonly invoker?: ContinuationInvoker;
  /** Paces AWS calls to the documented quotas, shared by every run of the environment. @default - `new Pacer()` */
  readonly pacer?: Pacer;
  /** The time budget of an invocation without a Lambda context. @default - unbounded */
  readonly budget?: () => RunBudget;
}

/**
 * Builds the Lambda handler. Configuration is validated now (cold start), or on the first
 * invocation once the settings document is read (see `withSettings`); the provenance HMAC key is
 * read from the primary once, on first use, and kept for the life of the environment.
 */
export function createHandler(
  env: NodeJS.ProcessEnv = process.env, options: HandlerOptions = {},
): (event: unknown, context?: RemainingTime) => Promise<HandlerResult> {
  return withSettings(env, (complete) => buildHandler(complete, options), { client: options.settingsClient });
}

function buildHandler(env: NodeJS.ProcessEnv, options: HandlerOptions): (event: unknown, context?: RemainingTime) => Promise<HandlerResult> {
  const settings = readSettings(env);
  const pacer = options.pacer ?? new Pacer();
  const clients = new ClientCache(settings.primaryRegion, undefined, pacer);
  const invoker = options.invoker ?? new LambdaSelfInvoker(settings.primaryRegion);
  const lease = new RunLease(clients.get(SSMClient, { region: settings.primaryRegion }), leasePath(requireEnv(Env.SERVICE_NAME, env)));
  const budgetOf = (context: RemainingTime | undefined) => (context?.getRemainingTimeInMillis
    ? RunBudget.fromContext(context)
    : options.budget?.() ?? RunBudget.unbounded());
  const fullSync = new FullSyncTracker();
  let replicator: Promise<ParameterReplicator> | undefined;
  const getReplicator = () => {
    replicator ??= clients.get(SecretsManagerClient, { region: settings.primaryRegion })
      .send(new GetSecretValueCommand({ SecretId: settings.provenanceKeySecretArn }))
      .then((key) => new ParameterReplicator(settings, new KeyedHasher(key.SecretString ?? ''), { pacer }))
      .catch((e) => {
        replicator = undefined; // the next invocation tries again
        throw e;
      });
    return replicator;
  };

  // A run after which every region agreed moves the document's lastSyncTimestamp; failing to do so
  // is logged and never fails the replication.
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
  const allAgree = (results: readonly ParameterResult[]) => results.every((r) => IN_SYNC.has(r.outcome));

  /**
   * The continuation with its cursor in the per-region shape: a continuation sent by a release that
   * worked the regions one after another (`{targetIndex, after}`) resumes that region and the later
   * ones. Throws `UnusableCursor` when the cursor does not fit the replica targets.
   */
  const resolveContinuation = (
    pass: PassState<CarriedPass<CarriedCursor | undefined, ReconcileTotals>>,
  ): PassState<CarriedPass<ReconcileCursor | undefined, ReconcileTotals>> => {
    if (pass.cursor === undefined || pass.cursor.position === undefined) {
      return pass as PassState<CarriedPass<ReconcileCursor | undefined, ReconcileTotals>>;
    }
    const position = resolveCursor(parseCursor(pass.cursor.position), settings.targets);
    if (!('regions' in pass.cursor.position)) {
      logger.info('continuation in the one-region-at-a-time cursor shape resumed', { regions: position.regions.map((p) => p.region) });
    }
    return { ...pass, cursor: { ...pass.cursor, position } };
  };

  /**
   * A continuation whose cursor cannot be used: logged (without the cursor), counted as a
   * replication failure, and its hop's lease taken and released so the next scheduled
   * reconciliation starts over at once rather than after the hand-over lease expires.
   */
  const dropContinuation = async (
    pass: PassState<unknown>, reason: UnusableCursor, started: number,
  ): Promise<ReconcileSummary> => {
    metrics.addMetric(ParameterReplicatorMetric.REPLICATION_FAILURES, MetricUnit.Count, 1);
    logger.error('continuation dropped; the next scheduled reconciliation starts over', { reason: reason.message, runId: pass.runId, hop: pass.hop });
    try {
      const held = await lease.acquire({ owner: pass.runId, hop: pass.hop }, 60_000);
      if (held.kind === 'held') await lease.release(held);
    } catch (e) {
      logger.warn('the run lease could not be released; the next run waits for it to expire', { ...errorFields(e) });
    }
    return { ...summarize('reconcile', [], started, false), partial: false, processed: 0, skipped: 'unusable-continuation' };
  };

  /**
   * One invocation of a reconciliation: holds the run lease, works until the budget runs out and
   * hands the rest over (lambda-src/shared/run-pass.ts). `start` is a manual invocation's cursor.
   */
  const reconcilePass = async (event: unknown, budget: RunBudget, start: ReconcileCursor | undefined, started: number): Promise<ReconcileSummary> => {
    const regions = settings.targets.map((t) => t.region);
    const carried = readContinuation<CarriedPass<CarriedCursor | undefined, ReconcileTotals>>(event);
    let continuation: PassState<CarriedPass<ReconcileCursor | undefined, ReconcileTotals>> | undefined;
    try {
      continuation = carried && resolveContinuation(carried);
    } catch (e) {
      if (!(e instanceof UnusableCursor)) throw e;
      return dropContinuation(carried!, e, started);
    }
    const active = await getReplicator();
    let results: ParameterResult[] = [];
    let cursor: ReconcileCursor | undefined;
    const outcome = await runPass<ReconcileCursor | undefined, ReconcileTotals>({ lease, invoker, budget }, 'reconcile', continuation, async (position, totals) => {
      for (const [region, at] of Object.entries(totals?.lastAgreedAt ?? {})) fullSync.remember(region, at);
      const shouldContinue = options.shouldContinue;
      const run = await active.reconcile({
        shouldContinue: () => budget.shouldStartMore() && (shouldContinue?.() ?? true),
        ...(position ? { cursor: position } : {}),
      });
      results = run.results;
      cursor = run.cursor;
      const disagreeing = run.results.filter((r) => !IN_SYNC.has(r.outcome)).map((r) => r.region);
      const disagreed = new Set([...(totals?.disagreed ?? []), ...run.unreachable, ...disagreeing]);
      const complete = run.cursor === undefined;
      // A region agrees in a reconciliation when it agreed in every invocation of it; until the
      // reconciliation completes the age of the last agreement keeps growing (FullSyncAgeAlarm).
      emitFullSyncAges(fullSync.record(regions, [], complete ? disagreed : new Set(regions), complete, new Date()));
      const outcomes = { ...(totals?.outcomes ?? {}) };
      for (const r of run.results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      return {
        processed: run.results.length,
        ...(run.cursor ? { next: run.cursor } : {}),
        totals: { outcomes, disagreed: [...disagreed].sort(), lastAgreedAt: fullSync.known() },
      };
    }, start);
    const summary = summarize('reconcile', results, started, false, cursor);
    if (outcome.skipped) return { ...summary, partial: false, processed: 0, skipped: outcome.skipped };
    const totals = outcome.totals!;
    const agreed = outcome.pass!.complete && totals.disagreed.length === 0;
    const result: ReconcileSummary = {
      ...summary, partial: outcome.partial, processed: outcome.processed, pass: { ...outcome.pass!, outcomes: totals.outcomes, agreed },
    };
    // Failures are counted and alarmed; the next scheduled reconciliation retries them.
    logger.info(outcome.partial ? 'reconciliation handed over' : 'reconciliation finished', { ...result });
    if (agreed) await noteSync(new Date());
    return result;
  };

  return async (event: unknown, context?: RemainingTime) => {
    const started = Date.now();
    try {
      let invocation;
      try {
        invocation = parseInvocation(event);
      } catch (e) {
        // Counted, logged without the payload, and thrown: Lambda's retries and dead-letter queue keep the event.
        metrics.addMetric(ParameterReplicatorMetric.REPLICATION_FAILURES, MetricUnit.Count, 1);
        logger.error('invocation payload rejected', { errorName: (e as Error).name, errorMessage: (e as MalformedInvocation).message });
        throw e;
      }
      switch (invocation.kind) {
        case 'ignored':
          logger.info('event ignored', { reason: invocation.reason });
          return summarize('ignored', [], started, false);
        case 'change': {
          const { change } = invocation;
          const active = await getReplicator();
          const results = await active.syncOne(change.name);
          for (const target of settings.targets) active.emitThrottles(target);
          const summary = summarize(change.operation, results, started, false);
          if (results.length === 0) logger.info('parameter not selected; nothing to do', { parameterName: change.name.slice(0, 2048) });
          else logger.info('change replicated', { parameterName: change.name, ...summary });
          const retriable = summary.failures.filter((f) => !f.permanent);
          if (retriable.length > 0) {
            // Fail the invocation so Lambda retries it and, after the retries, dead-letters it.
            // A retry is cheap: regions already in agreement are left alone.
            throw new Error(`replication of ${change.name} failed in ${retriable.map((f) => f.region).join(', ')}`);
          }
          if (results.length > 0 && allAgree(results)) await noteSync(new Date());
          return summary;
        }
        case 'manual': {
          if (invocation.action === 'connectivity_test') {
            const active = await getReplicator().catch(() => undefined);
            const regions = await connectivityReport(clients, settings.primaryRegion, settings.targets,
              active?.selection.roots ?? settings.selection.paths, settings.provenanceKeySecretArn);
            logger.info('connectivity test', { regions });
            return { action: 'connectivity_test', regions };
          }
          const budget = budgetOf(context);
          let cursor: ReconcileCursor | undefined;
          try {
            cursor = invocation.cursor && resolveCursor(invocation.cursor, settings.targets);
          } catch (e) {
            if (!(e instanceof UnusableCursor)) throw e;
            metrics.addMetric(ParameterReplicatorMetric.REPLICATION_FAILURES, MetricUnit.Count, 1);
            logger.error('invocation payload rejected', { errorName: 'MalformedInvocation', errorMessage: e.message });
            throw new MalformedInvocation(e.message);
          }
          if (invocation.action === 'reconcile') return await reconcilePass(event, budget, cursor, started);
          // A rehearsal (test_sync): no lease, no hand-over; it stops in time and reports its cursor.
          const shouldContinue = options.shouldContinue;
          const run = await (await getReplicator()).reconcile({
            dryRun: true,
            shouldContinue: () => budget.shouldStartMore() && (shouldContinue?.() ?? true),
            ...(cursor ? { cursor } : {}),
          });
          const summary = summarize(invocation.action, run.results, started, true, run.cursor);
          logger.info('reconciliation rehearsed', { ...summary });
          return summary;
        }
      }
    } catch (e) {
      if (!(e instanceof MalformedInvocation)) logger.error('invocation failed', { ...errorFields(e) });
      throw e;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
