import { randomUUID } from 'node:crypto';
import { SyncError } from './errors';
import { ConfigMapSyncer, SyncSummary } from './syncer';
import type { SyncAction } from '../../src/configmap-syncer/contract';
import { RunMetric } from '../../src/core/run-contract';
import { ContinuationInvoker, handOver, HopLimitReached, MAX_HOPS, nextHop, PassState, startPass } from '../shared/continuation';
import { HeldLease, LeaseResult, RunLease } from '../shared/lease';
import { errorFields, logger, metrics, MetricUnit } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';

/**
 * One sync of every target across as many invocations as it needs: each invocation holds the run
 * lease, syncs targets in order while its budget allows and hands the rest over with the index of
 * the first target it did not start. Each invocation reads the source afresh, so a target synced
 * later in the pass gets the source as it is then (a change in between starts a sync of its own).
 * The per-target metrics (`SyncSuccess`, `SyncFailure`, `KeysExcluded`) are emitted by the
 * invocation that synced the target, so they add up over the pass.
 */

/** What a continuation of a sync carries. */
export interface SyncCursor {
  /** Index of the first target not synced yet. */
  readonly nextTarget: number;
  /** Number of targets when the sync started: a continuation after a settings change is dropped. */
  readonly targetCount: number;
  /** What started the sync (`sync`, `schedule`, a change event's name). */
  readonly trigger: string;
}

/** How long a handed-over lease waits for its continuation to start. */
const HANDOVER_LEASE_MS = 5 * 60_000;
/** Lambda's longest timeout: no invocation runs longer. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to the invocation's time left for the lease of a working invocation. */
const LEASE_SLACK_MS = 30_000;

/** Where an invocation stands in its sync. */
export interface SyncPassFields {
  readonly partial: boolean;
  /** Set when another sync held the lease (nothing was synced), or this continuation was delivered before. */
  readonly skipped?: 'lease-held' | 'stale-continuation' | 'settings-changed';
  readonly pass?: {
    readonly runId: string;
    readonly hop: number;
    readonly startedAt: string;
    readonly complete: boolean;
    /** Set when the rest could not be handed over (the error's name): the next scheduled sync starts over. */
    readonly handOverFailed?: string;
  };
}

/** What a sync invocation needs. */
export interface SyncPassDependencies {
  readonly syncer: ConfigMapSyncer;
  readonly lease: RunLease;
  readonly invoker: ContinuationInvoker;
  readonly budget: RunBudget;
  readonly targetCount: number;
  readonly now?: () => number;
}

/**
 * Runs one invocation of a sync (`sync`, the schedule or a change event; not `test_sync`):
 * `continuation` is the sync it continues, or `undefined` to start one. A change event that finds
 * another sync in progress throws `RunInProgress`, so Lambda retries it later (that sync may have
 * read the source before the change). Emits `ItemsProcessed` (targets), `RunPartial` and
 * `OldestUnprocessedItemAge`.
 */
export async function runSyncPass(
  deps: SyncPassDependencies, run: { readonly action: SyncAction; readonly trigger: string; readonly failOnError: boolean },
  continuation: PassState<SyncCursor> | undefined,
): Promise<SyncSummary & SyncPassFields> {
  const now = deps.now ?? Date.now;
  const owner = continuation?.runId ?? randomUUID();
  const trigger = continuation?.cursor?.trigger ?? run.trigger;
  const leaseMs = Math.min(deps.budget.remainingMs(), MAX_INVOCATION_MS) + LEASE_SLACK_MS;
  const nothing = (skipped: NonNullable<SyncPassFields['skipped']>): SyncSummary & SyncPassFields => ({
    action: run.action, trigger, targets: [], durationMs: 0, partial: false, skipped,
  });
  let acquired: LeaseResult;
  try {
    acquired = await deps.lease.acquire({ owner, hop: continuation?.hop ?? 0 }, leaseMs);
  } catch (e) {
    if (continuation) throw e;
    // Parameter Store in the primary region is failing: sync whole, in this invocation, without the
    // lease (server-side apply of the same content twice changes nothing).
    logger.error('the run lease could not be taken; syncing in this invocation without it', { ...errorFields(e) });
    const { summary } = await deps.syncer.syncWithin(run, RunBudget.unbounded(), 0);
    emitRunMetrics(summary.targets.length, true, 0);
    return { ...summary, partial: false };
  }
  if (acquired.kind === 'busy') {
    if (acquired.reason === 'held' && !continuation && run.failOnError) {
      throw new SyncError('RunInProgress', `another sync holds the run lease until ${new Date(acquired.leaseUntil).toISOString()}; the change is retried`);
    }
    logger.info(acquired.reason === 'stale'
      ? 'this continuation was delivered before or its sync moved on; nothing to do'
      : 'another sync holds the run lease; nothing to do', { leaseUntil: new Date(acquired.leaseUntil).toISOString() });
    return nothing(acquired.reason === 'stale' ? 'stale-continuation' : 'lease-held');
  }
  const held: HeldLease = acquired;
  try {
    if (continuation?.cursor && continuation.cursor.targetCount !== deps.targetCount) {
      logger.warn('the targets changed since the sync started; the next scheduled sync starts over', { hop: continuation.hop });
      await releaseQuietly(deps.lease, held);
      return nothing('settings-changed');
    }
    deps.budget.stopWhen(() => now() >= held.leaseUntil - deps.budget.marginMs);
    const pass: PassState<SyncCursor> = continuation ? { ...continuation, generation: held.generation } : startPass(owner, held.generation, now());
    const { summary, next } = await deps.syncer.syncWithin(run, deps.budget, pass.cursor?.nextTarget ?? 0);
    const complete = next === undefined;
    emitRunMetrics(summary.targets.length, complete, complete ? 0 : Math.round((now() - pass.passStartedAt) / 1000));
    let handOverFailed: string | undefined;
    if (complete) {
      await releaseQuietly(deps.lease, held);
    } else {
      try {
        if (pass.hop + 1 >= MAX_HOPS) throw new HopLimitReached(pass.hop + 1);
        if (!await deps.lease.handOver(held, HANDOVER_LEASE_MS)) throw Object.assign(new Error('the run lease expired'), { name: 'LeaseExpired' });
        await handOver(deps.invoker, 'sync', nextHop(pass, { nextTarget: next, targetCount: deps.targetCount, trigger }, held.generation));
      } catch (e) {
        handOverFailed = errorFields(e).errorName;
        logger.error('the rest of the sync could not be handed over; the next scheduled sync starts over', {
          ...errorFields(e), ...(e instanceof HopLimitReached ? { reason: e.message } : {}),
        });
        await releaseQuietly(deps.lease, held);
      }
    }
    const result = {
      ...summary,
      trigger,
      partial: !complete,
      pass: {
        runId: pass.runId,
        hop: pass.hop,
        startedAt: new Date(pass.passStartedAt).toISOString(),
        complete,
        ...(handOverFailed ? { handOverFailed } : {}),
      },
    };
    if (!complete) logger.info('sync handed over', { hop: pass.hop, synced: summary.targets.length, nextTarget: next });
    return result;
  } catch (e) {
    await releaseQuietly(deps.lease, held);
    throw e;
  }
}

function emitRunMetrics(processed: number, complete: boolean, oldestAgeSeconds: number): void {
  metrics.addMetric(RunMetric.ITEMS_PROCESSED, MetricUnit.Count, processed);
  metrics.addMetric(RunMetric.RUN_PARTIAL, MetricUnit.Count, complete ? 0 : 1);
  metrics.addMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, MetricUnit.Seconds, oldestAgeSeconds);
}

/** Releases the lease; a failure only delays the next sync until the lease expires, so it is logged. */
async function releaseQuietly(lease: RunLease, held: HeldLease): Promise<void> {
  try {
    await lease.release(held);
  } catch (e) {
    logger.warn('the run lease could not be released; the next sync waits for it to expire', { ...errorFields(e) });
  }
}
