import { metrics, MetricUnit } from './observability';

/** Dimension of the per-region `SecondsSinceFullSync` datapoints (the replicators' `REPLICA_REGION_DIMENSION`). */
const REPLICA_REGION = 'ReplicaRegion';

/**
 * The age of the last reconciliation in which every selected item agreed, per replica region
 * (`SecondsSinceFullSync`), for every handler that replicates (secrets and parameters). The last
 * agreement is remembered for the life of the execution environment (and carried across a pass's
 * invocations with `remember` and `known`); an age that is not known is not emitted, and the alarm
 * treats a missing datapoint as breaching, so neither a reconciliation that stopped running nor a
 * region that never agrees goes unnoticed.
 */
export class RegionAgreementClock {
  private readonly lastAgreed = new Map<string, number>();

  /**
   * Records one reconciliation finished at `at`, in which each region agreed when `agreed(region)`
   * says so, and returns the age in seconds per region, or `undefined` for a region whose last
   * agreement this environment has not seen.
   */
  public recordAgreement(regions: readonly string[], agreed: (region: string) => boolean, at: Date): Map<string, number | undefined> {
    const ages = new Map<string, number | undefined>();
    for (const region of new Set(regions)) {
      if (agreed(region)) this.lastAgreed.set(region, at.getTime());
      const last = this.lastAgreed.get(region);
      ages.set(region, last === undefined ? undefined : Math.max(0, Math.round((at.getTime() - last) / 1000)));
    }
    return ages;
  }

  /**
   * Remembers that `region` agreed at `atMs` (ms since the epoch), as an earlier invocation of a
   * pass reported it, unless this environment knows of a later agreement.
   */
  public remember(region: string, atMs: number): void {
    this.lastAgreed.set(region, Math.max(atMs, this.lastAgreed.get(region) ?? atMs));
  }

  /** The last agreement of each region this environment knows of (ms since the epoch). */
  public known(): Record<string, number> {
    return Object.fromEntries(this.lastAgreed);
  }
}

/**
 * Emits `metricName` (the handler's `SecondsSinceFullSync`) once per region whose age is known
 * (dimension `ReplicaRegion`), and the largest age as the total only when every region's is known:
 * the total is what the alarm watches, so one region of unknown age leaves it without a datapoint
 * (breaching).
 */
export function emitFullSyncAges(metricName: string, ages: ReadonlyMap<string, number | undefined>): void {
  let oldest = 0;
  let allKnown = true;
  for (const [region, age] of ages) {
    if (age === undefined) {
      allKnown = false;
      continue;
    }
    oldest = Math.max(oldest, age);
    const single = metrics.singleMetric();
    single.addDimension(REPLICA_REGION, region);
    single.addMetric(metricName, MetricUnit.Seconds, age);
  }
  if (allKnown && ages.size > 0) metrics.addMetric(metricName, MetricUnit.Seconds, oldest);
}
