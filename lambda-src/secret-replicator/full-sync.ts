import { IN_SYNC } from './last-sync';
import { ReplicatorMetric } from '../../src/secret-replicator/contract';
import { emitFullSyncAges as emitAges, RegionAgreementClock } from '../shared/full-sync';
import type { TargetResult } from '../shared/secrets/replicator';

/**
 * The age of the last reconciliation in which every selected secret agreed, per replica region
 * (`SecondsSinceFullSync`; lambda-src/shared/full-sync.ts). A region agrees in a run when it could
 * be listed and every one of its results is an agreement (`IN_SYNC`, the rule `lastSyncTimestamp`
 * uses).
 */
export class FullSyncTracker extends RegionAgreementClock {
  /**
   * Records one reconciliation finished at `at` and returns the age in seconds per region, or
   * `undefined` for a region whose last agreement this environment has not seen.
   */
  record(regions: readonly string[], results: readonly TargetResult[], unreachable: ReadonlySet<string>, at: Date): Map<string, number | undefined> {
    return this.recordAgreement(regions, (region) =>
      !unreachable.has(region) && results.every((r) => r.region !== region || IN_SYNC.has(r.outcome)), at);
  }
}

/** Emits the secret replicator's `SecondsSinceFullSync` for `ages` (see lambda-src/shared/full-sync.ts). */
export function emitFullSyncAges(ages: ReadonlyMap<string, number | undefined>): void {
  emitAges(ReplicatorMetric.SECONDS_SINCE_FULL_SYNC, ages);
}
