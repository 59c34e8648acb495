import { IN_SYNC } from './last-sync';
import { REPLICA_REGION_DIMENSION, ReplicatorMetric } from '../../src/secret-replicator/contract';
import { metrics, MetricUnit } from '../shared/observability';
import type { TargetResult } from '../shared/secrets/replicator';

/**
 * The age of the last reconciliation in which every selected secret agreed, per replica region
 * (`SecondsSinceFullSync`). A region agrees in a run when it could be listed and every one of its
 * results is an agreement (`IN_SYNC`, the rule `lastSyncTimestamp` uses). The last agreement is
 * remembered for the life of the execution environment; an age that is not known is not emitted,
 * and the alarm treats a missing datapoint as breaching, so neither a reconciliation that stopped
 * running nor a region that never agrees goes unnoticed.
 */
export class FullSyncTracker {
  private readonly lastAgreed = new Map<string, number>();

  /**
   * Records one reconciliation finished at `at` and returns the age in seconds per region, or
   * `undefined` for a region whose last agreement this environment has not seen.
   */
  record(regions: readonly string[], results: readonly TargetResult[], unreachable: ReadonlySet<string>, at: Date): Map<string, number | undefined> {
    const ages = new Map<string, number | undefined>();
    for (const region of new Set(regions)) {
      const agreed = !unreachable.has(region) && results.every((r) => r.region !== region || IN_SYNC.has(r.outcome));
      if (agreed) this.lastAgreed.set(region, at.getTime());
      const last = this.lastAgreed.get(region);
      ages.set(region, last === undefined ? undefined : Math.max(0, Math.round((at.getTime() - last) / 1000)));
    }
    return ages;
  }

  /**
   * Remembers that `region` agreed at `atMs` (ms since the epoch), as an earlier invocation of a
   * pass reported it, unless this environment knows of a later agreement.
   */
  remember(region: string, atMs: number): void {
    this.lastAgreed.set(region, Math.max(atMs, this.lastAgreed.get(region) ?? atMs));
  }

  /** The last agreement of each region this environment knows of (ms since the epoch). */
  known(): Record<string, number> {
    return Object.fromEntries(this.lastAgreed);
  }
}

/**
 * Emits `SecondsSinceFullSync` once per region whose age is known (dimension `ReplicaRegion`), and
 * the largest age as the total only when every region's is known: the total is what the alarm
 * watches, so one region of unknown age leaves it without a datapoint (breaching).
 */
export function emitFullSyncAges(ages: ReadonlyMap<string, number | undefined>): void {
  let oldest = 0;
  let allKnown = true;
  for (const [region, age] of ages) {
    if (age === undefined) {
      allKnown = false;
      continue;
    }
    oldest = Math.max(oldest, age);
    const single = metrics.singleMetric();
    single.addDimension(REPLICA_REGION_DIMENSION, region);
    single.addMetric(ReplicatorMetric.SECONDS_SINCE_FULL_SYNC, MetricUnit.Seconds, age);
  }
  if (allKnown && ages.size > 0) metrics.addMetric(ReplicatorMetric.SECONDS_SINCE_FULL_SYNC, MetricUnit.Seconds, oldest);
}
