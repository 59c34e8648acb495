import { randomUUID } from 'node:crypto';
import { FullSyncTracker, emitFullSyncAges } from './full-sync';
import { IN_SYNC } from './last-sync';
import { RunMetric } from '../../src/core/run-contract';
import { ContinuationInvoker, handOver, HopLimitReached, MAX_HOPS, nextHop, PassState, startPass } from '../shared/continuation';
import { HeldLease, RunLease } from '../shared/lease';
import { errorFields, logger, metrics, MetricUnit } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';
import { Outcome, ReconcileCursor, RunSummary, SecretReplicator, summarize, TargetResult } from '../shared/secrets/replicator';

/**
 * One reconciliation pass of the secret replicator across as many invocations as it needs: each
 * invocation holds the run lease, works until its budget runs out, reports what it did and hands
 * the rest over to the next invocation (see `lambda-src/shared/continuation.ts`).
 */

/** What a continuation of a reconciliation carries besides the listing position: the pass so far. */
export interface ReconcilePassCursor {
  readonly position: ReconcileCursor;
  /** (secret, replica region) pairs worked by the earlier invocations of the pass. */
  readonly processed: number;
  /** Outcomes of the earlier invocations of the pass. */
  readonly outcomes: Partial<Record<Outcome, number>>;
  /** Replica regions that disagreed (or could not be listed) in an earlier invocation of the pass. */
  readonly disagreed: readonly string[];
  /** Last full agreement per replica region known when the pass was handed over (ms since the epoch). */
  readonly lastAgreedAt: Readonly<Record<string, number>>;
}

/** How long a handed-over lease waits for its continuation to start: Lambda starts a queued invocation in seconds. */
export const HANDOVER_LEASE_MS = 5 * 60_000;
/** Lambda's longest timeout: no invocation runs longer. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to the invocation's time left for the lease of a working invocation. */
const LEASE_SLACK_MS = 30_000;

/** The summary of one invocation of a reconciliation, and of its pass so far. */
export interface PassSummary extends RunSummary {
  /** True when the invocation stopped before the end of the pass (handed over, or could not). */
  readonly partial: boolean;
  /** (secret, replica region) pairs worked by this invocation. */
  readonly processed: number;
  /** Set when another run held the lease: this invocation did nothing. */
  readonly skipped?: 'lease-held' | 'stale-continuation';
  readonly pass?: {
    readonly runId: string;
    readonly hop: number;
    readonly startedAt: string;
    /** Pairs worked by the pass up to and including this invocation. */
    readonly processed: number;
    readonly outcomes: Partial<Record<Outcome, number>>;
    readonly complete: boolean;
    /** True when the pass completed and every replica region agreed in every invocation of it. */
    readonly agreed: boolean;
    /** Set when the pass could not be handed over (the error's name). */
    readonly handOverFailed?: string;
  };
}

/** What a pass needs from the handler. */
export interface PassDependencies {
  readonly replicator: SecretReplicator;
  readonly lease: RunLease;
  readonly invoker: ContinuationInvoker;
  readonly budget: RunBudget;
  readonly fullSync: FullSyncTracker;
  readonly regions: readonly string[];
  readonly now?: () => number;
}

/**
 * Runs one invocation of a reconciliation pass: `continuation` is the pass it continues, or
 * `undefined` to start one. Emits `ItemsProcessed`, `RunPartial`, `OldestUnprocessedItemAge` and
 * `SecondsSinceFullSync` for the invocation.
 */
export async function runReconcilePass(
  deps: PassDependencies, continuation: PassState<ReconcilePassCursor> | undefined, started: number,
): Promise<PassSummary> {
  const now = deps.now ?? Date.now;
  const owner = continuation?.runId ?? randomUUID();
  const leaseMs = Math.min(deps.budget.remainingMs(), MAX_INVOCATION_MS) + LEASE_SLACK_MS;
  const acquired = await deps.lease.acquire({ owner, hop: continuation?.hop ?? 0 }, leaseMs);
  if (acquired.kind === 'busy') {
    logger.info(acquired.reason === 'stale'
      ? 'this continuation was delivered before or its reconciliation moved on; nothing to do'
      : 'another reconciliation holds the run lease; nothing to do', {
      leaseUntil: new Date(acquired.leaseUntil).toISOString(), continuation: continuation !== undefined,
    });
    return { ...summarize('reconcile', [], started, false), partial: false, processed: 0, skipped: acquired.reason === 'stale' ? 'stale-continuation' : 'lease-held' };
  }
  const held: HeldLease = acquired;
  deps.budget.stopWhen(() => now() >= held.leaseUntil - deps.budget.marginMs);
  const pass: PassState<ReconcilePassCursor> = continuation
    ? { ...continuation, generation: held.generation }
    : startPass(owner, held.generation, now());
  const carried = pass.cursor;
  for (const [region, at] of Object.entries(carried?.lastAgreedAt ?? {})) deps.fullSync.remember(region, at);

  const progress = await deps.replicator.reconcileWithin(deps.budget, carried?.position);
  const results = progress.results;
  const summary = summarize('reconcile', results, started, false);
  const disagreed = new Set([...(carried?.disagreed ?? []), ...deps.replicator.unreachableRegions, ...disagreeingRegions(results)]);
  const outcomes = addOutcomes(carried?.outcomes ?? {}, summary.outcomes);
  const processedInPass = (carried?.processed ?? 0) + results.length;
  const complete = progress.next === undefined;

  metrics.addMetric(RunMetric.ITEMS_PROCESSED, MetricUnit.Count, results.length);
  metrics.addMetric(RunMetric.RUN_PARTIAL, MetricUnit.Count, complete ? 0 : 1);
  metrics.addMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, MetricUnit.Seconds, complete ? 0 : Math.round((now() - pass.passStartedAt) / 1000));
  // A region agrees in a pass when it agreed in every invocation of it; until the pass completes, the
  // age of the last agreement keeps growing (and `FullSyncAgeAlarm` goes off when it grows too old).
  const at = new Date(now());
  emitFullSyncAges(deps.fullSync.record(deps.regions, [], complete ? disagreed : new Set(deps.regions), at));

  let handOverFailed: string | undefined;
  if (complete) {
    await releaseQuietly(deps.lease, held);
  } else {
    const cursor: ReconcilePassCursor = {
      position: progress.next!,
      processed: processedInPass,
      outcomes,
      disagreed: [...disagreed].sort(),
      lastAgreedAt: deps.fullSync.known(),
    };
    try {
      if (nextHop(pass, cursor).hop >= MAX_HOPS) throw new HopLimitReached(pass.hop + 1);
      if (!await deps.lease.handOver(held, HANDOVER_LEASE_MS)) throw Object.assign(new Error('the run lease expired'), { name: 'LeaseExpired' });
      await handOver(deps.invoker, 'reconcile', nextHop(pass, cursor, held.generation));
    } catch (e) {
      handOverFailed = errorFields(e).errorName;
      // The next scheduled reconciliation starts a new pass; until then the full-sync age grows.
      logger.error('the rest of the reconciliation could not be handed over', {
        ...errorFields(e), ...(e instanceof HopLimitReached ? { reason: e.message } : {}),
      });
      await releaseQuietly(deps.lease, held);
    }
  }
  const result: PassSummary = {
    ...summary,
    partial: !complete,
    processed: results.length,
    pass: {
      runId: pass.runId,
      hop: pass.hop,
      startedAt: new Date(pass.passStartedAt).toISOString(),
      processed: processedInPass,
      outcomes,
      complete,
      agreed: complete && disagreed.size === 0,
      ...(handOverFailed ? { handOverFailed } : {}),
    },
  };
  logger.info(complete ? 'reconciliation finished' : 'reconciliation handed over', { ...result });
  return result;
}

/** Regions with a result that is not an agreement (`IN_SYNC`). */
function disagreeingRegions(results: readonly TargetResult[]): string[] {
  return [...new Set(results.filter((r) => !IN_SYNC.has(r.outcome)).map((r) => r.region))];
}

function addOutcomes(a: Partial<Record<Outcome, number>>, b: Partial<Record<Outcome, number>>): Partial<Record<Outcome, number>> {
  const out: Partial<Record<Outcome, number>> = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[Outcome, number]>) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Releases the lease; a failure only delays the next run until the lease expires, so it is logged. */
async function releaseQuietly(lease: RunLease, held: HeldLease): Promise<void> {
  try {
    await lease.release(held);
  } catch (e) {
    logger.warn('the run lease could not be released; the next run waits for it to expire', { ...errorFields(e) });
  }
}
