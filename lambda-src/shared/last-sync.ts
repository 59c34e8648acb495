import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * Keeps `lastSyncTimestamp` of the cross-region-config document current, for every handler that
 * replicates (secrets and parameters). The document holds settings only (no replicated value); it
 * is read, the one field is set, and it is written back whole.
 */

/**
 * Writes at most once a minute: Parameter Store allows 3 writes a second to a standard parameter
 * by default, and a burst of change events must not be throttled on a timestamp.
 */
export const MIN_UPDATE_INTERVAL_MS = 60_000;

/** The settings a document must carry for a handler to stamp it. */
export interface OwnSettings {
  readonly primaryRegion: string;
  readonly replicationRegions: readonly string[];
}

/** What `recordLastSync` did. */
export type LastSyncOutcome = 'updated' | 'recent' | 'not-a-document' | 'other-settings';

/** ISO 8601 in UTC to the second, e.g. `2025-01-21T10:30:00Z`. */
export function formatTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Sets `lastSyncTimestamp` to `at` unless it already is within `minIntervalMs` of it. Leaves alone
 * a parameter that is not a JSON object, and one whose `primaryRegion` or `replicationRegions`
 * differ from `own` (a deployment is changing it, or this function is stale). SDK errors propagate.
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
  if (doc.primaryRegion !== own.primaryRegion || documented !== regionSet(own.replicationRegions)) return 'other-settings';
  const previous = typeof doc.lastSyncTimestamp === 'string' ? Date.parse(doc.lastSyncTimestamp) : NaN;
  if (!Number.isNaN(previous) && at.getTime() - previous < minIntervalMs && at.getTime() >= previous) return 'recent';
  doc.lastSyncTimestamp = formatTimestamp(at);
  await client.send(new PutParameterCommand({ Name: parameterName, Value: JSON.stringify(doc), Type: 'String', Overwrite: true }));
  return 'updated';
}
