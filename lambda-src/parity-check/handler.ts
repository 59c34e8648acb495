import { CodePipelineClient, FailureType, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CheckOptions, ParityChecker, ParitySettings } from './check';
import { checkAllRegions, CheckAllSummary, RegionTally } from './schedule';
import type {
  ConfigMapScopeConfig, IgnoreRuleConfig, ParameterOverrideConfig, ParityResult, ReplicaTargetConfig, SelectionConfig,
} from '../../src/parity-check/contract';
import { MAX_SUMMARY_LENGTH, ParityEnv, ParityMetric, TARGET_REGION_DIMENSION } from '../../src/parity-check/contract';
import { ClientCache } from '../shared/clients';
import { ContinuationInvoker, LambdaSelfInvoker } from '../shared/continuation';
import { booleanEnv, ConfigurationError, integerEnv, requireEnv, requireJsonEnv } from '../shared/env';
import { KubernetesAccess } from '../shared/kubernetes';
import { leasePath, RunLease } from '../shared/lease';
import { errorFields, logger, metrics, MetricUnit } from '../shared/observability';
import { Pacer } from '../shared/pacing';
import { RemainingTime, RunBudget } from '../shared/run-budget';
import { SettingsClient, withSettings } from '../shared/settings';

/** Longest grace window, in seconds (one day). */
const MAX_GRACE_WINDOW_SECONDS = 86_400;
/** CodePipeline's limit on an execution summary, in characters. */
const MAX_JOB_SUMMARY = 2048;

/** Reads and checks the handler's configuration; throws naming the first bad variable (never its value). */
export function readSettings(env: NodeJS.ProcessEnv): ParitySettings {
  const optionalJson = <T>(name: string, fallback: T): T => (env[name] ? requireJsonEnv<T>(name, env) : fallback);
  const arrayOf = <T>(name: string, valid: (v: any) => boolean, shape: string): T[] => {
    const value = optionalJson<unknown>(name, []);
    if (!Array.isArray(value) || !value.every(valid)) throw new ConfigurationError(`environment variable ${name} must be a JSON array of ${shape}`);
    return value as T[];
  };
  const targets = requireJsonEnv<ReplicaTargetConfig[]>(ParityEnv.TARGETS, env);
  if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t?.region !== 'string')) {
    throw new ConfigurationError(`environment variable ${ParityEnv.TARGETS} must be a non-empty JSON array of {"region": ...}`);
  }
  const selection = optionalJson<SelectionConfig | undefined>(ParityEnv.SECRET_SELECTION, undefined);
  if (selection !== undefined && !Array.isArray(selection?.rules)) {
    throw new ConfigurationError(`environment variable ${ParityEnv.SECRET_SELECTION} must be JSON {"rules": [...]}`);
  }
  return {
    primaryRegion: requireEnv(ParityEnv.PRIMARY_REGION, env),
    targets,
    selection,
    parameterPaths: arrayOf<string>(ParityEnv.PARAMETER_PATHS, (v) => typeof v === 'string', 'strings'),
    parameterOverrides: arrayOf<ParameterOverrideConfig>(ParityEnv.PARAMETER_OVERRIDES,
      (v) => typeof v?.name === 'string' && typeof v?.region === 'string' && typeof v?.value === 'string', '{"name", "region", "value"}'),
    configMapScopes: arrayOf<ConfigMapScopeConfig>(ParityEnv.CONFIGMAP_SCOPES,
      (s) => typeof s?.primary?.name === 'string' && Array.isArray(s.replicas) && Array.isArray(s.names), '{"primary", "replicas", "namespace", "names"}'),
    ignoreRules: arrayOf<IgnoreRuleConfig>(ParityEnv.IGNORE_RULES,
      (r) => typeof r?.namePattern === 'string' && ['secret', 'parameter', 'configmap'].includes(r.kind), '{"kind", "namePattern"}'),
    excludedParameters: arrayOf<string>(ParityEnv.EXCLUDED_PARAMETERS, (v) => typeof v === 'string', 'strings'),
    excludedSecretArn: env[ParityEnv.EXCLUDED_SECRET_ARN] || undefined,
    graceWindowSeconds: integerEnv(ParityEnv.GRACE_WINDOW_SECONDS, 600, 0, MAX_GRACE_WINDOW_SECONDS, env),
    failWhenUnreadable: booleanEnv(ParityEnv.FAIL_WHEN_UNREADABLE, true, env),
  };
}

/** What an invocation asks for, from whichever caller sent it. */
export type ParityRequest =
  /** A CodePipeline LambdaInvoke rule (or invoke action): report the verdict with PutJob*Result. */
  | { readonly caller: 'pipeline'; readonly jobId: string; readonly region?: string; readonly problem?: string }
  /** An ARC Region switch plan's custom action step: a failing check fails the step (the function errors). */
  | { readonly caller: 'region-switch'; readonly region?: string; readonly problem?: string }
  /** `{"action":"check","region":...}`: returns the result. */
  | { readonly caller: 'direct'; readonly region: string }
  /** `{"action":"check_all"}` or the schedule: every region, with metrics. */
  | { readonly caller: 'all' };

/**
 * Which caller sent `event` and which region it asks about. Never echoes the event: a CodePipeline
 * job carries temporary credentials (`artifactCredentials`).
 */
export function parseRequest(event: unknown, regions: readonly string[]): ParityRequest {
  const e = (event ?? {}) as Record<string, any>;
  const job = e['CodePipeline.job'];
  if (job !== undefined) {
    if (typeof job?.id !== 'string' || job.id === '') throw new ConfigurationError('a CodePipeline job without an id');
    const raw = job?.data?.actionConfiguration?.configuration?.UserParameters;
    let region: unknown;
    try {
      region = typeof raw === 'string' ? (JSON.parse(raw) as { region?: unknown })?.region : undefined;
    } catch {
      region = undefined;
    }
    return typeof region === 'string'
      ? { caller: 'pipeline', jobId: job.id, region }
      : { caller: 'pipeline', jobId: job.id, problem: 'the rule\'s UserParameters must be JSON {"region": "<region to check>"}' };
  }
  if (typeof e.PlanArn === 'string' || e.InvokedBy !== undefined) {
    // ARC Region switch sends only its execution metadata; the region is the step name's suffix
    // (`ConfigParityCheck.regionSwitchStepName(region)`), or a `region` key where a payload can be set.
    if (typeof e.region === 'string') return { caller: 'region-switch', region: e.region };
    const step = typeof e.StepName === 'string' ? e.StepName : '';
    const region = [...regions].sort((a, b) => b.length - a.length).find((r) => step === r || step.endsWith(`-${r}`));
    return region
      ? { caller: 'region-switch', region }
      : { caller: 'region-switch', problem: `the step name must end with "-<region>" for one of ${regions.join(', ')}` };
  }
  if (e.action === 'check') {
    if (typeof e.region !== 'string') throw new ConfigurationError('{"action":"check"} needs "region": the region to compare with the primary');
    return { caller: 'direct', region: e.region };
  }
  if (e.action === 'check_all' || e['detail-type'] === 'Scheduled Event') return { caller: 'all' };
  throw new ConfigurationError('unsupported invocation: expected {"action":"check","region":...}, {"action":"check_all"}, '
    + 'a CodePipeline job, an ARC Region switch step, or an EventBridge scheduled event');
}

/** A check that failed, thrown to an ARC Region switch step so that it fails; its message is the value-free summary. */
export class ConfigParityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigParityError';
  }
}

/** What the handler returns: one region's result, or every region's for `check_all`. */
export type ParityResponse = ParityResult | { readonly results: ParityResult[] } | CheckAllSummary | { readonly reported: 'PASS' | 'FAIL'; readonly summary: string };

/** The handler's dependencies, replaceable in tests. */
export interface HandlerDependencies {
  readonly settingsClient?: SettingsClient;
  readonly checkOptions?: () => CheckOptions;
  /** Sends the continuation of a scheduled check. @default - `LambdaSelfInvoker` (this function, InvocationType Event) */
  readonly invoker?: ContinuationInvoker;
  /** Paces AWS calls to the documented quotas, shared by every check of the environment. @default - `new Pacer()` */
  readonly pacer?: Pacer;
  /** The time budget of an invocation without a Lambda context. @default - unbounded */
  readonly budget?: () => RunBudget;
}

/** Builds the Lambda handler; configuration is validated at cold start (or when the settings document is read). */
export function createHandler(
  env: NodeJS.ProcessEnv = process.env, deps: HandlerDependencies = {},
): (event: unknown, context?: RemainingTime) => Promise<ParityResponse> {
  return withSettings(env, (complete) => buildHandler(complete, deps), { client: deps.settingsClient });
}

function buildHandler(env: NodeJS.ProcessEnv, deps: HandlerDependencies): (event: unknown, context?: RemainingTime) => Promise<ParityResponse> {
  const settings = readSettings(env);
  const clients = new ClientCache(settings.primaryRegion, undefined, deps.pacer ?? new Pacer());
  const kubernetes = settings.configMapScopes.length > 0 ? new KubernetesAccess(clients) : undefined;
  const checker = new ParityChecker(settings, clients, kubernetes);
  const codepipeline = () => clients.get(CodePipelineClient, { region: settings.primaryRegion });
  const invoker = deps.invoker ?? new LambdaSelfInvoker(settings.primaryRegion);
  // The lease is needed by the scheduled check only: created on its first use.
  let lease: RunLease | undefined;
  const leaseOf = () => (lease ??= new RunLease(
    clients.get(SSMClient, { region: settings.primaryRegion }), leasePath(requireEnv(ParityEnv.SERVICE_NAME, env))));
  const budgetOf = (context: RemainingTime | undefined) => (context?.getRemainingTimeInMillis
    ? RunBudget.fromContext(context)
    : deps.budget?.() ?? RunBudget.unbounded());

  /**
   * One region's check for a caller waiting for the answer (a pipeline rule, an ARC step, a direct
   * invocation): no hand-over. It starts no scope once the invocation's budget is spent, and a check
   * stopped that way fails closed, saying why.
   */
  const checkOne = async (region: string, budget: RunBudget): Promise<ParityResult> => {
    const options = deps.checkOptions?.() ?? {};
    const asked = options.shouldContinue;
    const result = withinBudget(await checker.check(region, {
      ...options,
      shouldContinue: () => budget.shouldStartMore() && (asked?.() ?? true),
    }), budget);
    emit(result);
    logger[result.verdict === 'PASS' ? 'info' : 'warn'](result.summary, {
      targetRegion: region, verdict: result.verdict, differences: result.differences.length, compared: result.compared,
    });
    return result;
  };

  return async (event: unknown, context?: RemainingTime) => {
    try {
      const request = parseRequest(event, checker.regions);
      const budget = budgetOf(context);
      switch (request.caller) {
        case 'pipeline': {
          // Every job ends in exactly one PutJob*Result; an entry condition that is never answered holds the stage until it times out.
          let verdict: 'PASS' | 'FAIL' = 'FAIL';
          let summary: string;
          let configuration = false;
          if (request.region === undefined || !checker.regions.includes(request.region)) {
            configuration = true;
            summary = request.problem ?? `region ${JSON.stringify(request.region?.slice(0, 32))} is not checked by this function; expected one of ${checker.regions.join(', ')}`;
          } else {
            try {
              const result = await checkOne(request.region, budget);
              verdict = result.verdict;
              summary = result.summary;
            } catch (e) {
              summary = `Config parity of ${request.region} could not be checked (${errorFields(e).errorName}): entry stays closed`;
              logger.error('parity check failed', { targetRegion: request.region, ...errorFields(e) });
            }
          }
          const client = codepipeline();
          if (verdict === 'PASS') {
            await client.send(new PutJobSuccessResultCommand({
              jobId: request.jobId,
              executionDetails: { summary: summary.slice(0, MAX_JOB_SUMMARY), percentComplete: 100 },
            }));
          } else {
            await client.send(new PutJobFailureResultCommand({
              jobId: request.jobId,
              failureDetails: {
                type: configuration ? FailureType.ConfigurationError : FailureType.JobFailed,
                message: summary.slice(0, MAX_SUMMARY_LENGTH),
              },
            }));
          }
          return { reported: verdict, summary };
        }
        case 'region-switch': {
          if (request.region === undefined) throw new ConfigurationError(request.problem ?? 'no region');
          const result = await checkOne(request.region, budget);
          if (result.verdict !== 'PASS') throw new ConfigParityError(result.summary);
          return result;
        }
        case 'direct':
          return await checkOne(request.region, budget);
        case 'all': {
          // Every region, one at a time (each check reads the primary again, so a region is judged
          // against the primary as it is then), across as many invocations as it takes (schedule.ts).
          const summary = await checkAllRegions({
            checker,
            lease: leaseOf(),
            invoker,
            budget,
            failWhenUnreadable: settings.failWhenUnreadable,
            checkOptions: deps.checkOptions,
            onRegion: (result, tally) => {
              if (result) {
                emitTally(result.targetRegion, tally, settings.failWhenUnreadable);
                log(result);
              } else {
                emitFailure(tally.region);
              }
            },
          }, event);
          const unchecked = summary.pass?.complete ? summary.pass.unchecked : [];
          if (unchecked.length > 0) throw new ConfigParityError(`${unchecked.length} region(s) could not be checked`);
          return summary;
        }
      }
    } catch (e) {
      if (!(e instanceof ConfigParityError)) logger.error('parity check invocation failed', { ...errorFields(e) });
      throw e;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/**
 * A check the invocation's budget stopped: it fails closed (an incomplete check never passes), and
 * its summary says so first.
 */
function withinBudget(result: ParityResult, budget: RunBudget): ParityResult {
  if (result.complete || !budget.exhausted) return result;
  const head = `Config parity of ${result.targetRegion} with ${result.primaryRegion}: ${result.verdict} - `;
  const rest = result.summary.startsWith(head) ? result.summary.slice(head.length) : result.summary;
  const reason = `the check ran out of time after ${result.cursor?.nextScope ?? 0} of its scopes (less than ${Math.round(budget.marginMs / 1000)} s `
    + 'of the invocation was left) and fails closed: raise the function\'s timeout or compare less per check';
  return { ...result, summary: `${head}${reason}; ${rest}`.slice(0, MAX_SUMMARY_LENGTH) };
}

function log(result: ParityResult): void {
  logger[result.verdict === 'PASS' ? 'info' : 'warn'](result.summary, {
    targetRegion: result.targetRegion, verdict: result.verdict, differences: result.differences.length, compared: result.compared,
  });
}

/** The metrics of a region whose scheduled check took several invocations: from its tally. */
function emitTally(region: string, tally: RegionTally, failWhenUnreadable: boolean): void {
  const blocking = tally.differences + (failWhenUnreadable ? tally.unreadable : 0);
  emitRegion(region, blocking === 0 ? 1 : 0, tally.differences, tally.unreadable);
}

/** `ConfigParity`, `ParityDifferences` and `ParityUnreadable` for one region, in total and with `TargetRegion`. */
function emit(result: ParityResult): void {
  const unreadable = result.differences.filter((d) => d.driftType === 'SCAN_FAILED').length;
  emitRegion(result.targetRegion, result.verdict === 'PASS' ? 1 : 0, result.differences.length - unreadable, unreadable);
}

/** A region whose check threw: it does not agree as far as anyone can tell. */
function emitFailure(region: string): void {
  emitRegion(region, 0, 0, 1);
}

function emitRegion(region: string, parity: number, differences: number, unreadable: number): void {
  const values: Array<[string, number]> = [
    [ParityMetric.CONFIG_PARITY, parity], [ParityMetric.DIFFERENCES, differences], [ParityMetric.UNREADABLE, unreadable],
  ];
  for (const [name, value] of values) {
    // Without TargetRegion too: the parity alarm's Minimum sees every region checked in its period.
    metrics.addMetric(name, MetricUnit.Count, value);
    // A single metric is flushed on its first addMetric: one per metric.
    const single = metrics.singleMetric();
    single.addDimension(TARGET_REGION_DIMENSION, region);
    single.addMetric(name, MetricUnit.Count, value);
  }
}
