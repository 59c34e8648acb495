import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Outcome, TargetResult } from '../shared/secrets/replicator';

/**
 * Keeps `lastSyncTimestamp` of the cross-region-config document current. The document holds
 * settings only (no secret value); it is read, the one field is set, and it is written back whole.
 */

/**
 * Writes at most once a minute: Parameter Store allows 3 writes a second to a standard parameter
 * by default, and a burst of change events must not be throttled on a timestamp.
 */
export const MIN_UPDATE_INTERVAL_MS = 60_000;

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

/** What `recordLastSync` did. */
export type LastSyncOutcome = 'updated' | 'recent' | 'not-a-document' | 'other-settings';

/** The settings a document must carry for this handler to stamp it. */
export interface OwnSettings {
  readonly primaryRegion: string;
  readonly replicationRegions: readonly string[];
}

/** The cross-region-config document's `lastSyncTimestamp` format: ISO 8601 in UTC to the second, e.g. `2025-01-21T10:30:00Z`. */
export function formatTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Sets `lastSyncTimestamp` to `at` unless it already is within `MIN_UPDATE_INTERVAL_MS` of it.
 * Leaves alone a parameter that is not a JSON object, and one whose `primaryRegion` or
 * `replicationRegions` differ from `own`: a deployment is changing the document (writing it back
 * would undo the change) or this function is stale. SDK errors propagate to the caller.
 */
export async function recordLastSync(
  client: SSMClient, parameterName: string, at: Date, own: OwnSettings, minIntervalMs: number = MIN_UPDATE_INTERVAL_MS,
): Promise<LastSyncOutcome> {
  const current = await client.send(new GetParameterCommand({ Name: parameterName }));
  let document: unknown;
  try {
    document = JSON.parse(current.Parameter?.Value ?? '');
  } catch {
    return 'not-a-document';
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return 'not-a-document';
  const doc = document as Record<string, unknown>;
  const regionSet = (regions: readonly unknown[]) => JSON.stringify([...new Set(regions.map(String))].sort());
  const documented = Array.isArray(doc.replicationRegions) ? regionSet(doc.replicationRegions) : undefined;
  if (doc.primaryRegion !== own.primaryRegion || documented !== regionSet(own.replicationRegions)) {
    return 'other-settings';
  }
  const previous = typeof doc.lastSyncTimestamp === 'string' ? Date.parse(doc.lastSyncTimestamp) : NaN;
  if (!Number.isNaN(previous) && at.getTime() - previous < minIntervalMs && at.getTime() >= previous) return 'recent';
  doc.lastSyncTimestamp = formatTimestamp(at);
  await client.send(new PutParameterCommand({ Name: parameterName, Value: JSON.stringify(doc), Type: 'String', Overwrite: true }));
  return 'updated';
}
