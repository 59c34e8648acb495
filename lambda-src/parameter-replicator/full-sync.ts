import { ParameterReplicatorMetric } from '../../src/parameter-replicator/contract';
import { emitFullSyncAges as emitAges, RegionAgreementClock } from '../shared/full-sync';
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
 * region (`SecondsSinceFullSync`; lambda-src/shared/full-sync.ts). A region agrees in a run when it
 * could be listed, the run was complete, and every result is in `IN_SYNC`.
 */
export class FullSyncTracker extends RegionAgreementClock {
  record(
    regions: readonly string[], results: readonly ParameterResult[], unreachable: ReadonlySet<string>, complete: boolean, at: Date,
  ): Map<string, number | undefined> {
    return this.recordAgreement(regions, (region) =>
      complete && !unreachable.has(region) && results.every((r) => r.region !== region || IN_SYNC.has(r.outcome)), at);
  }
}

/** Emits the parameter replicator's `SecondsSinceFullSync` for `ages` (see lambda-src/shared/full-sync.ts). */
export function emitFullSyncAges(ages: ReadonlyMap<string, number | undefined>): void {
  emitAges(ParameterReplicatorMetric.SECONDS_SINCE_FULL_SYNC, ages);
}
