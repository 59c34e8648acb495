import { ParameterReplicatorMetric, REPLICA_REGION_DIMENSION } from '../../src/parameter-replicator/contract';
import { metrics, MetricUnit } from '../shared/observability';
import type { ParameterOutcome, ParameterResult } from '../shared/parameters/replicator';

/**
 * Outcomes after which a replica region agrees with the primary on a parameter: it holds the
 * primary's current value or its declared override (or another run's newer copy), or the primary
 * is gone and the replica is deleted, absent, or kept because the settings say so. A skipped
 * conflict and a failure are disagreements.
 */
export const IN_SYNC: ReadonlySet<ParameterOutcome> = new Set<ParameterOutcome>([
  'created', 'updated', 'metadata-updated', 'in-sync', 'conflict-overwritten', 'stale-skipped', 'deleted', 'absent', 'deletion-not-propagated',
]);

/**
 * The age of the last reconciliation in which every selected parameter agreed, per replica
 * region (`SecondsSinceFullSync`), remembered for the life of the execution environment. A region
 * agrees in a run when it could be listed, the run was complete, and every result is in `IN_SYNC`.
 */
export class FullSyncTracker {
  private readonly lastAgreed = new Map<string, number>();

  record(
    regions: readonly string[], results: readonly ParameterResult[], unreachable: ReadonlySet<string>, complete: boolean, at: Date,
  ): Map<string, number | undefined> {
    const ages = new Map<string, number | undefined>();
    for (const region of new Set(regions)) {
      const agreed = complete && !unreachable.has(region) && results.every((r) => r.region !== region || IN_SYNC.has(r.outcome));
      if (agreed) this.lastAgreed.set(region, at.getTime());
      const last = this.lastAgreed.get(region);
      ages.set(region, last === undefined ? undefined : Math.max(0, Math.round((at.getTime() - last) / 1000)));
    }
    return ages;
  }

  /**
   * Remembers that `region` agreed at `atMs` (ms since the epoch), as an earlier invocation of a
   * reconciliation reported it, unless this environment knows of a later agreement.
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
 * Emits `SecondsSinceFullSync` per region whose age is known, and the largest age as the total
 * only when every region's is known (a missing datapoint is breaching for the alarm).
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
    single.addMetric(ParameterReplicatorMetric.SECONDS_SINCE_FULL_SYNC, MetricUnit.Seconds, age);
  }
  if (allKnown && ages.size > 0) metrics.addMetric(ParameterReplicatorMetric.SECONDS_SINCE_FULL_SYNC, MetricUnit.Seconds, oldest);
}
