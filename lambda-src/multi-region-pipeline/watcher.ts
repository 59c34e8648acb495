import { randomUUID } from 'node:crypto';
import {
  CodePipelineClient, GetPipelineExecutionCommand, GetPipelineStateCommand, paginateListActionExecutions,
  paginateListPipelineExecutions, RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import type { ActionExecutionDetail, PipelineExecution, StageExecution } from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ClaimStore, claimStage, completeClaim, HeldClaim, releaseClaim } from './rollback-claims';
import type { RegionalStageConfig } from '../../src/multi-region-pipeline/contract';
import { PipelineEnv, PipelineMetric, REGION_DIMENSION } from '../../src/multi-region-pipeline/contract';
import { booleanEnv, ConfigurationError, requireEnv, requireJsonEnv } from '../shared/env';
import { addSplitMetric, errorFields, logger, metrics, MetricUnit } from '../shared/observability';

/**
 * The pipeline watcher: an EventBridge target for the pipeline's execution and stage state changes.
 * It counts failed executions and rollbacks, and, when coordinated rollback is on, rolls back every
 * region an execution had already promoted when a later region of the same execution fails.
 */

/** The watcher's configuration, read from its environment at cold start. */
export interface WatcherSettings {
  /** The pipeline this function watches; events of any other pipeline are ignored. */
  readonly pipelineName: string;
  /** The regional stages, in deployment order (the primary region first). */
  readonly regions: RegionalStageConfig[];
  /** Roll back regions promoted earlier in an execution when a later region of it fails. */
  readonly coordinatedRollback: boolean;
  /** Topic the coordinated-rollback outcome is published to; absent when none. */
  readonly notificationTopicArn?: string;
  /**
   * Parameter Store path of the rollback claims (one record per failed execution and stage);
   * required when `coordinatedRollback` is on.
   */
  readonly rollbackClaimsPath?: string;
}

/** What the watcher needs besides its settings; tests inject a clock and a sleep. */
export interface WatcherDependencies {
  readonly codepipeline: CodePipelineClient;
  /** Required when `notificationTopicArn` is set. */
  readonly sns?: SNSClient;
  /** @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Where the rollback claims are kept; required when coordinated rollback is on. */
  readonly claims?: ClaimStore;
  /** Names this invocation in the claims it holds. @default - a random UUID per invocation */
  readonly invocationId?: string;
}

/**
 * How one stage rollback the coordinator wanted ended: `started`; `already-rolled-back` (its latest
 * execution is a running or succeeded rollback); `superseded` (a newer standard execution has run
 * the stage since, so rolling it back would undo that one instead); `no-target` (no earlier
 * successful execution to return to); `failed` (RollbackStage refused it).
 */
export type RollbackOutcome = 'started' | 'already-rolled-back' | 'superseded' | 'no-target' | 'failed';

/** One stage rollback the coordinator wanted (value-free: names, ids and an error name). */
export interface StageRollback {
  readonly region: string;
  readonly stage: string;
  readonly outcome: RollbackOutcome;
  /** The rollback execution we started, or the one already running or done. */
  readonly rollbackExecutionId?: string;
  /** Set when `outcome` is `failed`. */
  readonly errorName?: string;
}

/** The report of a coordinated rollback; also the body of the SNS message. */
export interface CoordinatedRollbackReport {
  readonly pipeline: string;
  readonly failedExecutionId: string;
  readonly failedStage: string;
  readonly failedRegion: string;
  /** The execution the stages were rolled back to; absent when there was none, or nothing to roll back. */
  readonly targetExecutionId?: string;
  /** In the order they were attempted: the most recently promoted region first. */
  readonly rollbacks: StageRollback[];
}

/** What the watcher did with one event. */
export type WatcherOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'execution-failed'; readonly executionId: string }
  | { readonly action: 'rollback-observed'; readonly executionId: string; readonly stage: string; readonly region: string; readonly triggerType?: string }
  | {
    readonly action: 'failure-observed';
    readonly executionId: string;
    readonly stage: string;
    readonly region: string;
    readonly coordinated: false;
  }
  | ({ readonly action: 'coordinated' } & CoordinatedRollbackReport);

const STAGE_EVENT = 'CodePipeline Stage Execution State Change';
const PIPELINE_EVENT = 'CodePipeline Pipeline Execution State Change';
const ROLLBACK = 'ROLLBACK';

/**
 * Total time the coordinator keeps retrying RollbackStage while the pipeline is busy (typically
 * with the failed stage's own automatic rollback): 5 minutes, well within the function's
 * 10-minute timeout. A rollback still refused then is reported as failed; the invocation throws
 * and its asynchronous retry picks up where this one stopped.
 */
const CONFLICT_RETRY_BUDGET_MS = 5 * 60_000;
/** First wait after a ConflictException (ms); doubled after each further one. */
const CONFLICT_FIRST_DELAY_MS = 5_000;
/** Cap on one wait after a ConflictException (ms). */
const CONFLICT_MAX_DELAY_MS = 60_000;
/** ListPipelineExecutions page size (the API's maximum). */
const EXECUTIONS_PAGE_SIZE = 100;
/** ListActionExecutions page size (the API's maximum). */
const ACTIONS_PAGE_SIZE = 100;
/**
 * Executions searched for a rollback target before giving up: a pipeline keeps 12 months of
 * history, and a target older than this many executions is not one anybody wants to return to.
 */
const MAX_EXECUTIONS_SEARCHED = 1_000;
/** SNS requires a subject shorter than 100 characters. */
const MAX_SUBJECT = 99;
/**
 * A claim outlives its holder's last possible RollbackStage by this much (ms): the holder starts
 * none after its deadline, and one request takes seconds, not two minutes.
 */
const CLAIM_LEASE_MARGIN_MS = 2 * 60_000;
/** Pause between two looks at a stage another invocation is rolling back (ms). */
const CLAIM_POLL_MS = 3_000;
/**
 * Claims are kept this long (ms) and then removed: longer than any redelivery of the same failure
 * (EventBridge retries for 2 hours, Lambda's asynchronous queue keeps an event for up to 6).
 */
const CLAIM_RETENTION_MS = 3 * 24 * 3_600_000;
/** A Parameter Store path: `/` and segments of A-Z a-z 0-9 _ . - (no trailing `/`). */
const PARAMETER_PATH = /^(\/[A-Za-z0-9_.-]+)+$/;

/** Reads and checks the watcher's configuration; throws naming the first bad variable. */
export function readWatcherSettings(env: NodeJS.ProcessEnv): WatcherSettings {
  const notificationTopicArn = env[PipelineEnv.NOTIFICATION_TOPIC_ARN] || undefined;
  if (notificationTopicArn !== undefined && !/^arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(notificationTopicArn)) {
    throw new ConfigurationError(`environment variable ${PipelineEnv.NOTIFICATION_TOPIC_ARN} must be an SNS topic ARN`);
  }
  const coordinatedRollback = booleanEnv(PipelineEnv.COORDINATED_ROLLBACK, false, env);
  const rollbackClaimsPath = env[PipelineEnv.ROLLBACK_CLAIMS_PATH] || undefined;
  if (coordinatedRollback && rollbackClaimsPath === undefined) {
    throw new ConfigurationError(`environment variable ${PipelineEnv.ROLLBACK_CLAIMS_PATH} is required when ${PipelineEnv.COORDINATED_ROLLBACK} is true`);
  }
  if (rollbackClaimsPath !== undefined && (!PARAMETER_PATH.test(rollbackClaimsPath) || rollbackClaimsPath.length > 512)) {
    throw new ConfigurationError(`environment variable ${PipelineEnv.ROLLBACK_CLAIMS_PATH} must be a Parameter Store path such as /a/b (at most 512 characters)`);
  }
  return {
    pipelineName: requireEnv(PipelineEnv.PIPELINE_NAME, env),
    regions: readRegionalStages(env),
    coordinatedRollback,
    ...(notificationTopicArn !== undefined ? { notificationTopicArn } : {}),
    ...(rollbackClaimsPath !== undefined ? { rollbackClaimsPath } : {}),
  };
}

function readRegionalStages(env: NodeJS.ProcessEnv): RegionalStageConfig[] {
  const name = PipelineEnv.REGIONAL_STAGES;
  const raw = requireJsonEnv<unknown>(name, env);
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigurationError(`environment variable ${name} must be a non-empty JSON array of {"region", "stages", "rollbackStages"}`);
  }
  const regionOf = new Map<string, number>();
  const regionNames = new Set<string>();
  return raw.map((entry: any, i): RegionalStageConfig => {
    const where = `environment variable ${name}[${i}]`;
    if (typeof entry?.region !== 'string' || entry.region === '') {
      throw new ConfigurationError(`${where} must have a non-empty string region`);
    }
    if (regionNames.has(entry.region)) {
      throw new ConfigurationError(`${where} repeats the region of an earlier entry; each region has one entry`);
    }
    regionNames.add(entry.region);
    if (!isNameList(entry.stages) || entry.stages.length === 0) {
      throw new ConfigurationError(`${where} must have stages: a non-empty array of stage names`);
    }
    if (!isNameList(entry.rollbackStages)) {
      throw new ConfigurationError(`${where} must have rollbackStages: an array of stage names (possibly empty)`);
    }
    entry.stages.forEach((stage: string, s: number) => {
      const owner = regionOf.get(stage);
      if (owner !== undefined) {
        throw new ConfigurationError(`${where}.stages[${s}] is also a stage of entry ${owner}; each stage belongs to one region only`);
      }
      regionOf.set(stage, i);
    });
    entry.rollbackStages.forEach((stage: string, s: number) => {
      if (!entry.stages.includes(stage)) {
        throw new ConfigurationError(`${where}.rollbackStages[${s}] is not one of the entry's stages`);
      }
    });
    return { region: entry.region, stages: [...entry.stages], rollbackStages: [...entry.rollbackStages] };
  });
}

function isNameList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '');
}

/** The fields of a CodePipeline EventBridge event the watcher reads. */
interface PipelineEvent {
  readonly detailType: string;
  readonly pipeline: string;
  readonly executionId: string;
  readonly state: string;
  readonly stage?: string;
}

function parseEvent(event: unknown): PipelineEvent | string {
  const e = event as { 'detail-type'?: unknown; 'detail'?: Record<string, unknown> } | undefined;
  const detailType = e?.['detail-type'];
  if (detailType !== STAGE_EVENT && detailType !== PIPELINE_EVENT) {
    return 'not a CodePipeline pipeline or stage execution state change';
  }
  const d = e?.detail ?? {};
  const { pipeline, state, stage } = d;
  const executionId = d['execution-id'];
  if (typeof pipeline !== 'string' || typeof executionId !== 'string' || typeof state !== 'string') {
    return `${detailType} without pipeline, execution-id or state`;
  }
  if (detailType === STAGE_EVENT && typeof stage !== 'string') {
    return `${detailType} without stage`;
  }
  return { detailType, pipeline, executionId, state, ...(typeof stage === 'string' ? { stage } : {}) };
}

/**
 * Handles one EventBridge event of the watched pipeline: counts failed executions and started
 * rollbacks, and coordinates the cross-region rollback when a regional stage fails.
 *
 * Throws, after logging and publishing the outcome, when a rollback it wanted could not be
 * started, so that the asynchronous invocation is retried and finally dead-lettered. One failure
 * rolls each stage back once, however often and however concurrently its event is delivered: the
 * stage is claimed first (see `rollback-claims.ts`), and an invocation that finds another's
 * outcome reports it (`already-rolled-back`, `superseded`) instead of acting. Every decision is
 * taken on the pipeline state read just before the RollbackStage it leads to.
 *
 * @example
 * const outcome = await handleWatcherEvent(event, readWatcherSettings(process.env), { codepipeline, sns, claims: new SsmClaimStore(ssm) });
 */
export async function handleWatcherEvent(event: unknown, settings: WatcherSettings, deps: WatcherDependencies): Promise<WatcherOutcome> {
  const parsed = parseEvent(event);
  if (typeof parsed === 'string') return ignored(parsed);
  if (parsed.pipeline !== settings.pipelineName) return ignored('an event of another pipeline');

  if (parsed.detailType === PIPELINE_EVENT) {
    if (parsed.state !== 'FAILED') return ignored(`pipeline execution state ${parsed.state}`);
    metrics.addMetric(PipelineMetric.PIPELINE_EXECUTION_FAILED, MetricUnit.Count, 1);
    logger.warn('Pipeline execution failed', { pipeline: parsed.pipeline, executionId: parsed.executionId });
    return { action: 'execution-failed', executionId: parsed.executionId };
  }

  const stage = parsed.stage!;
  const regionIndex = settings.regions.findIndex((r) => r.stages.includes(stage));
  if (regionIndex < 0) return ignored('not a regional stage');
  if (parsed.state !== 'STARTED' && parsed.state !== 'FAILED') return ignored(`stage execution state ${parsed.state}`);
  const region = settings.regions[regionIndex].region;

  const execution = await getExecution(deps.codepipeline, settings.pipelineName, parsed.executionId);
  const isRollback = execution?.executionType === ROLLBACK;

  if (parsed.state === 'STARTED') {
    if (!isRollback) return ignored('a standard execution started a stage');
    addSplitMetric(PipelineMetric.ROLLBACK_PERFORMED, MetricUnit.Count, 1, REGION_DIMENSION, region);
    const triggerType = execution?.trigger?.triggerType;
    logger.info('Rollback started', {
      pipeline: settings.pipelineName,
      executionId: parsed.executionId,
      stage,
      region,
      triggerType,
      rollbackTargetExecutionId: execution?.rollbackMetadata?.rollbackTargetPipelineExecutionId,
    });
    return { action: 'rollback-observed', executionId: parsed.executionId, stage, region, ...(triggerType ? { triggerType } : {}) };
  }

  // A failed rollback is CodePipeline's (or the operator's) to handle: rolling back other regions
  // in answer to it would cascade.
  if (isRollback) return ignored('a rollback execution failed');
  if (!settings.coordinatedRollback) {
    logger.info('Regional stage failed; coordinated rollback is off', { pipeline: settings.pipelineName, executionId: parsed.executionId, stage, region });
    return { action: 'failure-observed', executionId: parsed.executionId, stage, region, coordinated: false };
  }
  const report = await coordinateRollback(settings, deps, parsed.executionId, stage, regionIndex);
  return { action: 'coordinated', ...report };
}

function ignored(reason: string): WatcherOutcome {
  logger.debug('Event ignored', { reason });
  return { action: 'ignored', reason };
}

async function getExecution(client: CodePipelineClient, pipelineName: string, pipelineExecutionId: string): Promise<PipelineExecution | undefined> {
  const out = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }));
  return out.pipelineExecution;
}

/**
 * Rolls back the regions promoted before `failedStage`'s region in the failed execution, most
 * recently promoted first, then logs, counts and publishes the outcome.
 */
async function coordinateRollback(
  settings: WatcherSettings, deps: WatcherDependencies, failedExecutionId: string, failedStage: string, failedIndex: number,
): Promise<CoordinatedRollbackReport> {
  if (settings.notificationTopicArn && !deps.sns) {
    throw new Error('an SNS client is required when a notification topic is configured');
  }
  if (!settings.rollbackClaimsPath || !deps.claims) {
    throw new Error('a rollback claims path and store are required for coordinated rollback');
  }
  const now = deps.now ?? Date.now;
  const deadline = now() + CONFLICT_RETRY_BUDGET_MS;
  const base = { pipeline: settings.pipelineName, failedExecutionId, failedStage, failedRegion: settings.regions[failedIndex].region };
  const earlier = settings.regions.slice(0, failedIndex);

  const succeeded = earlier.length > 0 ? await stagesSucceededIn(deps.codepipeline, settings.pipelineName, failedExecutionId) : new Set<string>();
  const promoted = earlier.filter((r) => r.stages.every((s) => succeeded.has(s)));
  const notPromoted = earlier.filter((r) => !promoted.includes(r)).map((r) => r.region);
  const wanted = [...promoted].reverse().flatMap((r) => r.rollbackStages.map((stage) => ({ region: r.region, stage })));
  if (wanted.length === 0) {
    logger.info('Regional stage failed; no earlier region to roll back', { ...base, notPromoted });
    return { ...base, rollbacks: [] };
  }

  const target = await lastSuccessfulExecutionBefore(deps.codepipeline, settings.pipelineName, failedExecutionId);
  const context: StageRollbackContext = {
    pipelineName: settings.pipelineName,
    claimsPath: settings.rollbackClaimsPath,
    claims: deps.claims,
    owner: deps.invocationId ?? randomUUID(),
    failedExecutionId,
    deps,
    deadline,
  };
  const rollbacks: StageRollback[] = [];
  let decidedHere = false;
  for (const { region, stage } of wanted) {
    if (target === undefined) {
      rollbacks.push({ region, stage, outcome: 'no-target' });
      decidedHere = true;
      continue;
    }
    const decided = await rollBackStage(context, region, stage, target);
    rollbacks.push(decided.rollback);
    decidedHere ||= decided.here;
  }
  const report: CoordinatedRollbackReport = { ...base, ...(target !== undefined ? { targetExecutionId: target } : {}), rollbacks };
  await removeOldClaims(context);

  const failedRegions = unique(rollbacks.filter((r) => r.outcome === 'failed').map((r) => r.region));
  for (const region of failedRegions) {
    addSplitMetric(PipelineMetric.ROLLBACK_FAILED, MetricUnit.Count, 1, REGION_DIMENSION, region);
  }
  if (failedRegions.length > 0) {
    logger.error('Coordinated rollback incomplete', { ...report, notPromoted });
  } else if (!decidedHere) {
    // A duplicate delivery: every stage's outcome is another invocation's, which published it.
    logger.info('Coordinated rollback already handled by another invocation', { ...report, notPromoted });
  } else {
    logger.info('Coordinated rollback', { ...report, notPromoted });
  }
  if (settings.notificationTopicArn && (decidedHere || failedRegions.length > 0)) {
    await deps.sns!.send(new PublishCommand({
      TopicArn: settings.notificationTopicArn,
      Subject: rollbackSubject(report),
      Message: JSON.stringify(report, null, 2),
    }));
  }
  if (failedRegions.length > 0) {
    throw new Error(`coordinated rollback of pipeline ${settings.pipelineName} after execution ${failedExecutionId} failed `
      + `in ${failedStage}: could not roll back ${failedRegions.join(', ')}`);
  }
  return report;
}

/** Removes this function's claims older than CLAIM_RETENTION_MS; a failure is logged, never fatal. */
async function removeOldClaims(context: StageRollbackContext): Promise<void> {
  const now = context.deps.now ?? Date.now;
  try {
    const removed = await context.claims.deleteOlderThan(context.claimsPath, now() - CLAIM_RETENTION_MS);
    if (removed > 0) logger.info('Old rollback claims removed', { removed });
  } catch (e) {
    logger.warn('Old rollback claims could not be removed; the next coordinated rollback tries again', { ...errorFields(e) });
  }
}

/**
 * The stages that succeeded in an execution: every action of the stage ran, and the latest run of
 * each (a retried stage runs its failed actions again in the same execution) succeeded.
 */
async function stagesSucceededIn(client: CodePipelineClient, pipelineName: string, pipelineExecutionId: string): Promise<Set<string>> {
  const latest = new Map<string, ActionExecutionDetail>();
  const pages = paginateListActionExecutions({ client, pageSize: ACTIONS_PAGE_SIZE }, { pipelineName, filter: { pipelineExecutionId } });
  for await (const page of pages) {
    for (const detail of page.actionExecutionDetails ?? []) {
      // A page may hold executions of other pipeline executions only if the filter were ignored; be strict.
      if (detail.pipelineExecutionId !== pipelineExecutionId || !detail.stageName) continue;
      const key = `${detail.stageName}\u0000${detail.actionName}`;
      const seen = latest.get(key);
      // The API lists the most recent first; keep the first seen unless a later one follows.
      if (!seen || (detail.startTime && seen.startTime && detail.startTime > seen.startTime)) latest.set(key, detail);
    }
  }
  const failing = new Set<string>();
  const ran = new Set<string>();
  for (const detail of latest.values()) {
    ran.add(detail.stageName!);
    if (detail.status !== 'Succeeded') failing.add(detail.stageName!);
  }
  return new Set([...ran].filter((s) => !failing.has(s)));
}

/**
 * The most recent execution that started before the failed one and succeeded as a standard
 * execution: a rollback cannot target a rollback execution, and a failed one has stages that did
 * not succeed. Executions are listed newest first.
 */
async function lastSuccessfulExecutionBefore(
  client: CodePipelineClient, pipelineName: string, failedExecutionId: string,
): Promise<string | undefined> {
  let seenFailed = false;
  let searched = 0;
  const pages = paginateListPipelineExecutions({ client, pageSize: EXECUTIONS_PAGE_SIZE }, { pipelineName });
  for await (const page of pages) {
    for (const summary of page.pipelineExecutionSummaries ?? []) {
      if (++searched > MAX_EXECUTIONS_SEARCHED) return undefined;
      if (summary.pipelineExecutionId === failedExecutionId) {
        seenFailed = true;
        continue;
      }
      if (seenFailed && summary.status === 'Succeeded' && (summary.executionType ?? 'STANDARD') === 'STANDARD') {
        return summary.pipelineExecutionId;
      }
    }
  }
  return undefined;
}

/** What rolling back one stage needs: the failure, the claims and the invocation's deadline. */
interface StageRollbackContext {
  readonly pipelineName: string;
  readonly claimsPath: string;
  readonly claims: ClaimStore;
  /** This invocation, as named in the claims it holds. */
  readonly owner: string;
  readonly failedExecutionId: string;
  readonly deps: WatcherDependencies;
  /** No RollbackStage starts after this (ms since the epoch). */
  readonly deadline: number;
}

/**
 * Rolls one stage back to `target`, once per failure: claims the stage, then, on the pipeline
 * state read just before each attempt, leaves it alone when its latest execution is a running or
 * succeeded rollback (`already-rolled-back`) or a newer standard execution (`superseded`), and
 * otherwise calls RollbackStage, retrying while the pipeline is busy until the deadline. A stage
 * another invocation holds is waited for, and its recorded outcome reported. `here` is false when
 * the outcome is another invocation's.
 */
async function rollBackStage(
  context: StageRollbackContext, region: string, stage: string, target: string,
): Promise<{ rollback: StageRollback; here: boolean }> {
  const { pipelineName, deps, deadline } = context;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? Date.now;
  let claim: HeldClaim | undefined;
  try {
    for (;;) {
      const found = await claimStage(
        context.claims, context.claimsPath, context.failedExecutionId, stage, context.owner, deadline + CLAIM_LEASE_MARGIN_MS, now());
      if (found.kind === 'held') {
        claim = found.claim;
        break;
      }
      if (found.kind === 'done') {
        const recorded = found.record;
        logger.info('Stage rollback decided by another invocation', { pipeline: pipelineName, region, stage, outcome: recorded.outcome });
        const outcome: RollbackOutcome = recorded.outcome === 'superseded' ? 'superseded' : 'already-rolled-back';
        return {
          rollback: { region, stage, outcome, ...(recorded.rollbackExecutionId ? { rollbackExecutionId: recorded.rollbackExecutionId } : {}) },
          here: false,
        };
      }
      if (now() + CLAIM_POLL_MS > deadline) {
        throw Object.assign(new Error('another invocation still holds the stage rollback'), { name: 'RollbackClaimedElsewhere' });
      }
      logger.info('Stage rollback held by another invocation; waiting', { pipeline: pipelineName, region, stage, delayMs: CLAIM_POLL_MS });
      await sleep(CLAIM_POLL_MS);
    }

    let delay = CONFLICT_FIRST_DELAY_MS;
    for (;;) {
      // Fresh state for every attempt: while we waited, a newer execution may have run the stage.
      const decided = await decideOnState(context, region, stage);
      if (decided) {
        await completeClaim(context.claims, claim, decided.outcome, decided.rollbackExecutionId);
        return { rollback: decided, here: true };
      }
      try {
        const out = await deps.codepipeline.send(new RollbackStageCommand({ pipelineName, stageName: stage, targetPipelineExecutionId: target }));
        logger.info('Stage rollback started', { pipeline: pipelineName, region, stage, targetExecutionId: target, rollbackExecutionId: out.pipelineExecutionId });
        await completeClaim(context.claims, claim, 'started', out.pipelineExecutionId);
        return { rollback: { region, stage, outcome: 'started', ...(out.pipelineExecutionId ? { rollbackExecutionId: out.pipelineExecutionId } : {}) }, here: true };
      } catch (e) {
        if ((e as Error).name !== 'ConflictException' || now() + delay > deadline) throw e;
        logger.info('Pipeline busy; retrying the stage rollback', { pipeline: pipelineName, region, stage, delayMs: delay });
        await sleep(delay);
        delay = Math.min(delay * 2, CONFLICT_MAX_DELAY_MS);
      }
    }
  } catch (e) {
    const fields = errorFields(e);
    logger.error('Stage rollback failed', { pipeline: pipelineName, region, stage, targetExecutionId: target, ...fields });
    if (claim) {
      try {
        await releaseClaim(context.claims, claim);
      } catch (releaseError) {
        // The claim's lease runs out instead; a retry takes the stage over then.
        logger.warn('Stage rollback claim could not be released', { pipeline: pipelineName, region, stage, ...errorFields(releaseError) });
      }
    }
    return { rollback: { region, stage, outcome: 'failed', errorName: fields.errorName }, here: true };
  }
}

/**
 * The outcome the stage's latest execution decides, or undefined when it still needs rolling
 * back: a running or succeeded rollback other than the failed execution is `already-rolled-back`;
 * any other standard execution than the failed one ran (or is running) the stage since, so it is
 * `superseded`.
 */
async function decideOnState(context: StageRollbackContext, region: string, stage: string): Promise<StageRollback | undefined> {
  const { pipelineName, failedExecutionId } = context;
  const latest = await latestStageExecution(context.deps.codepipeline, pipelineName, stage);
  if (latest?.type === ROLLBACK && (latest.status === 'InProgress' || latest.status === 'Succeeded')
    && latest.pipelineExecutionId !== failedExecutionId) {
    logger.info('Stage already rolled back', { pipeline: pipelineName, region, stage, rollbackExecutionId: latest.pipelineExecutionId, status: latest.status });
    return { region, stage, outcome: 'already-rolled-back', rollbackExecutionId: latest.pipelineExecutionId };
  }
  if (latest?.pipelineExecutionId !== undefined && latest.type !== ROLLBACK && latest.pipelineExecutionId !== failedExecutionId) {
    logger.info('Stage left to a newer execution', { pipeline: pipelineName, region, stage, latestExecutionId: latest.pipelineExecutionId, status: latest.status });
    return { region, stage, outcome: 'superseded' };
  }
  return undefined;
}

/** The stage's latest execution (GetPipelineState), read afresh. */
async function latestStageExecution(client: CodePipelineClient, pipelineName: string, stage: string): Promise<StageExecution | undefined> {
  const state = await client.send(new GetPipelineStateCommand({ name: pipelineName }));
  return (state.stageStates ?? []).find((s) => s.stageName === stage)?.latestExecution;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * `Pipeline <name>: <region> failed; rolled back <regions>`, in ASCII and shorter than SNS's limit:
 * a long pipeline name is shortened first, so that the outcome stays readable (the body has it all).
 */
function rollbackSubject(report: CoordinatedRollbackReport): string {
  const regionsWith = (...outcomes: RollbackOutcome[]) => unique(report.rollbacks.filter((r) => outcomes.includes(r.outcome)).map((r) => r.region));
  const rolledBack = regionsWith('started', 'already-rolled-back');
  const failed = regionsWith('failed');
  const superseded = regionsWith('superseded');
  const parts = [`${report.failedRegion} failed`];
  if (rolledBack.length > 0) parts.push(`rolled back ${rolledBack.join(', ')}`);
  if (failed.length > 0) parts.push(`rollback FAILED in ${failed.join(', ')}`);
  if (superseded.length > 0) parts.push(`${superseded.join(', ')} superseded`);
  if (regionsWith('no-target').length > 0) parts.push('no earlier successful execution to roll back to');
  const outcome = `: ${parts.join('; ')}`;
  const room = MAX_SUBJECT - 'Pipeline '.length - outcome.length;
  const name = report.pipeline.length <= room ? report.pipeline : `${report.pipeline.slice(0, Math.max(room - 3, 0))}...`;
  // SNS refuses non-ASCII, line breaks and control characters in a subject.
  const subject = `Pipeline ${name}${outcome}`.replace(/[^\x20-\x7e]/g, '?');
  return subject.length <= MAX_SUBJECT ? subject : `${subject.slice(0, MAX_SUBJECT - 3)}...`;
}

/**
 * A one-line summary of an outcome, for logs and test failures.
 *
 * @example
 * describeOutcome({ action: 'ignored', reason: 'an event of another pipeline' }); // "ignored: an event of another pipeline"
 */
export function describeOutcome(outcome: WatcherOutcome): string {
  switch (outcome.action) {
    case 'ignored':
      return `ignored: ${outcome.reason}`;
    case 'execution-failed':
      return `execution ${outcome.executionId} failed`;
    case 'rollback-observed':
      return `rollback execution ${outcome.executionId} started ${outcome.stage} (${outcome.region})`;
    case 'failure-observed':
      return `execution ${outcome.executionId} failed in ${outcome.stage} (${outcome.region}); coordinated rollback is off`;
    case 'coordinated': {
      const rollbacks = outcome.rollbacks.map((r) => `${r.stage}=${r.outcome}`).join(', ');
      return `execution ${outcome.failedExecutionId} failed in ${outcome.failedStage} (${outcome.failedRegion}); `
        + (rollbacks ? `rollbacks to ${outcome.targetExecutionId ?? 'none'}: ${rollbacks}` : 'nothing to roll back');
    }
  }
}
