import { randomUUID } from 'node:crypto';
import { ContinuationInvoker, handOver, HopLimitReached, MAX_HOPS, nextHop, PassState, startPass } from './continuation';
import { HeldLease, RunLease } from './lease';
import { errorFields, logger, metrics, MetricUnit } from './observability';
import { RunBudget } from './run-budget';
import { RunMetric } from '../../src/core/run-contract';

/**
 * One pass of a deadline-aware run across as many invocations as it needs, for handlers whose
 * work is an ordered sequence resumable at a position (the parameter replicator's reconciliation,
 * the parity check's scheduled check of every region): each invocation takes the run lease, works
 * until its budget runs out, emits `ItemsProcessed`, `RunPartial` and `OldestUnprocessedItemAge`,
 * and hands the rest over with the position and the pass's totals so far (see `continuation.ts`,
 * `lease.ts`). The secret replicator's `pass.ts` follows the same steps with its own summary.
 *
 * @example
 * const outcome = await runPass(deps, 'reconcile', readContinuation(event), async (position, totals) => {
 *   const run = await engine.reconcile({ shouldContinue: () => deps.budget.shouldStartMore(), cursor: position });
 *   return { processed: run.results.length, next: run.cursor, totals: add(totals, run) };
 * });
 */

/** What a continuation of a pass carries. */
export interface CarriedPass<P, T> {
  /** Where the next invocation resumes. */
  readonly position: P;
  /** Items worked by the earlier invocations of the pass. */
  readonly processed: number;
  /** The pass's totals so far (value-free, small: a continuation payload is at most 256 KB). */
  readonly totals: T;
}

/** What one invocation's stretch of work did. */
export interface Stretch<P, T> {
  /** Items worked in this invocation. */
  readonly processed: number;
  /** Where the rest starts; `undefined` when the pass reached its end. */
  readonly next?: P;
  /** The pass's totals up to and including this invocation. */
  readonly totals: T;
}

/** What a pass needs from the handler. */
export interface RunPassDependencies {
  readonly lease: RunLease;
  readonly invoker: ContinuationInvoker;
  readonly budget: RunBudget;
  readonly now?: () => number;
}

/** The summary of one invocation of a pass. */
export interface PassOutcome<T> {
  /** True when the invocation stopped before the end of the pass (handed over, or could not). */
  readonly partial: boolean;
  /** Items worked by this invocation. */
  readonly processed: number;
  /** Set when this invocation did nothing: another run held the lease, or this continuation was delivered before. */
  readonly skipped?: 'lease-held' | 'stale-continuation';
  readonly pass?: {
    readonly runId: string;
    readonly hop: number;
    readonly startedAt: string;
    /** Items worked by the pass up to and including this invocation. */
    readonly processed: number;
    readonly complete: boolean;
    /** Set when the pass could not be handed over (the error's name). */
    readonly handOverFailed?: string;
  };
  /** The pass's totals up to and including this invocation; absent when skipped. */
  readonly totals?: T;
}

/** How long a handed-over lease waits for its continuation to start: Lambda starts a queued invocation in seconds. */
export const HANDOVER_LEASE_MS = 5 * 60_000;
/** Lambda's longest timeout: no invocation runs longer. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to the invocation's time left for the lease of a working invocation. */
const LEASE_SLACK_MS = 30_000;

/**
 * Runs one invocation of a pass: `continuation` is the pass it continues (`readContinuation`), or
 * `undefined` to start one at `start`. `work` gets the position to resume from and the totals so
 * far, and must stop starting work once `deps.budget.shouldStartMore()` answers false (it may work
 * one item regardless, so that a chain always moves forward).
 */
export async function runPass<P, T>(
  deps: RunPassDependencies,
  action: string,
  continuation: PassState<CarriedPass<P, T>> | undefined,
  work: (position: P | undefined, totals: T | undefined) => Promise<Stretch<P, T>>,
  start?: P,
): Promise<PassOutcome<T>> {
  const now = deps.now ?? Date.now;
  const owner = continuation?.runId ?? randomUUID();
  const leaseMs = Math.min(deps.budget.remainingMs(), MAX_INVOCATION_MS) + LEASE_SLACK_MS;
  const acquired = await deps.lease.acquire({ owner, hop: continuation?.hop ?? 0 }, leaseMs);
  if (acquired.kind === 'busy') {
    logger.info(acquired.reason === 'stale'
      ? `this continuation was delivered before or its ${action} moved on; nothing to do`
      : `another ${action} holds the run lease; nothing to do`, {
      leaseUntil: new Date(acquired.leaseUntil).toISOString(), continuation: continuation !== undefined,
    });
    return { partial: false, processed: 0, skipped: acquired.reason === 'stale' ? 'stale-continuation' : 'lease-held' };
  }
  const held: HeldLease = acquired;
  deps.budget.stopWhen(() => now() >= held.leaseUntil - deps.budget.marginMs);
  const pass: PassState<CarriedPass<P, T>> = continuation
    ? { ...continuation, generation: held.generation }
    : startPass(owner, held.generation, now());
  const carried = pass.cursor;

  let stretch: Stretch<P, T>;
  try {
    stretch = await work(carried ? carried.position : start, carried?.totals);
  } catch (e) {
    // The next scheduled run starts a new pass at once instead of waiting for the lease to expire.
    await releaseQuietly(deps.lease, held);
    throw e;
  }
  const complete = stretch.next === undefined;
  const processedInPass = (carried?.processed ?? 0) + stretch.processed;
  metrics.addMetric(RunMetric.ITEMS_PROCESSED, MetricUnit.Count, stretch.processed);
  metrics.addMetric(RunMetric.RUN_PARTIAL, MetricUnit.Count, complete ? 0 : 1);
  metrics.addMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, MetricUnit.Seconds, complete ? 0 : Math.round((now() - pass.passStartedAt) / 1000));

  let handOverFailed: string | undefined;
  if (complete) {
    await releaseQuietly(deps.lease, held);
  } else {
    const cursor: CarriedPass<P, T> = { position: stretch.next!, processed: processedInPass, totals: stretch.totals };
    try {
      if (nextHop(pass, cursor).hop >= MAX_HOPS) throw new HopLimitReached(pass.hop + 1);
      if (!await deps.lease.handOver(held, HANDOVER_LEASE_MS)) throw Object.assign(new Error('the run lease expired'), { name: 'LeaseExpired' });
      await handOver(deps.invoker, action, nextHop(pass, cursor, held.generation));
    } catch (e) {
      handOverFailed = errorFields(e).errorName;
      // The next scheduled run starts a new pass.
      logger.error(`the rest of the ${action} could not be handed over`, {
        ...errorFields(e), ...(e instanceof HopLimitReached ? { reason: e.message } : {}),
      });
      await releaseQuietly(deps.lease, held);
    }
  }
  return {
    partial: !complete,
    processed: stretch.processed,
    pass: {
      runId: pass.runId,
      hop: pass.hop,
      startedAt: new Date(pass.passStartedAt).toISOString(),
      processed: processedInPass,
      complete,
      ...(handOverFailed ? { handOverFailed } : {}),
    },
    totals: stretch.totals,
  };
}

/** Releases the lease; a failure only delays the next run until the lease expires, so it is logged. */
async function releaseQuietly(lease: RunLease, held: HeldLease): Promise<void> {
  try {
    await lease.release(held);
  } catch (e) {
    logger.warn('the run lease could not be released; the next run waits for it to expire', { ...errorFields(e) });
  }
}
