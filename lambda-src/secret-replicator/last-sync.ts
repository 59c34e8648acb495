import type { Outcome, TargetResult } from '../shared/secrets/replicator';

/**
 * When the secret replicator's runs leave every region in agreement; `lastSyncTimestamp` itself is
 * kept by the shared lambda-src/shared/last-sync.ts.
 */
export { MIN_UPDATE_INTERVAL_MS } from '../shared/last-sync';

/**
 * Outcomes after which a replica region agrees with the primary on a secret, as the settings
 * define agreement: a live primary's replica holds a copy of its AWSCURRENT version (or a copy
 * another run made from a later read), and a deleted primary's replica is deleted or absent, or is
 * kept because the settings say so (`deletion-not-propagated`: deletions are not propagated, or
 * the replica is not this replicator's to delete). That difference is intended, so it does not
 * hold back `lastSyncTimestamp`. A skipped conflict (a replica changed in its own region and left
 * so) and a failure are disagreements.
 */
export const IN_SYNC: ReadonlySet<Outcome> = new Set<Outcome>([
  'created', 'updated', 'metadata-updated', 'in-sync', 'conflict-overwritten', 'stale-skipped', 'deleted', 'absent', 'deletion-not-propagated',
]);

/**
 * True when a sync left every region in agreement: every result is in sync, and, for a change
 * event, the change concerned a selected secret at all (`requireResults`).
 */
export function inSyncEverywhere(results: readonly TargetResult[], requireResults: boolean): boolean {
  if (requireResults && results.length === 0) return false;
  return results.every((r) => IN_SYNC.has(r.outcome));
}

export { formatTimestamp, recordLastSync } from '../shared/last-sync';
export type { LastSyncOutcome, OwnSettings } from '../shared/last-sync';
