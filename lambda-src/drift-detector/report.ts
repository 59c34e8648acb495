import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { RemediationModeName, ResourceKindName } from '../../src/drift-detector/contract';
import { DriftMetric, DriftType, REPLICA_REGION_DIMENSION, RESOURCE_TYPE_DIMENSION } from '../../src/drift-detector/contract';
import { ClientCache } from '../shared/clients';
import { Deferral, Drift, Location } from '../shared/comparison/model';
import { metrics, MetricUnit, MetricUnitType } from '../shared/observability';

/** Version of the report's JSON shape (schemas/drift-report.schema.json). */
export const REPORT_SCHEMA_VERSION = 1;
/** Drifts returned inline by a manual check; the report in S3 has all of them. */
const MAX_INLINE_DRIFTS = 100;

/** How one location of one scope was read. */
export interface LocationStatus {
  readonly region: string;
  readonly cluster?: string;
  readonly status: 'read' | 'failed';
  readonly errorName?: string;
}

/** One scope of the scan, for the report. */
export interface ScopeStatus {
  readonly kind: ResourceKindName;
  readonly label: string;
  readonly primary: LocationStatus;
  readonly replicas: LocationStatus[];
  readonly primaryItems: number;
}

/** Counts of a scan. */
export interface ReportSummary {
  readonly driftCount: number;
  readonly hasDrift: boolean;
  readonly byDriftType: Record<string, number>;
  readonly byResourceType: Record<string, number>;
  readonly byReplicaRegion: Record<string, number>;
  readonly itemsCompared: number;
  readonly itemsIgnored: number;
  readonly itemsDeferred: number;
  readonly scanFailures: number;
  readonly remediated: number;
  readonly remediationFailures: number;
}

/** The JSON report written to S3 (and validated against the published schema in tests). */
export interface DriftReport {
  readonly schemaVersion: number;
  readonly runId: string;
  readonly trigger: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly primaryRegion: string;
  readonly replicaRegions: string[];
  readonly resourceTypes: ResourceKindName[];
  readonly remediationMode: RemediationModeName;
  readonly graceWindowSeconds: number;
  readonly summary: ReportSummary;
  readonly scopes: ScopeStatus[];
  readonly drifts: Drift[];
  readonly deferred: Deferral[];
}

/** Counts drifts by type, resource type and replica region (every known key present, zeros included). */
export function summarizeDrifts(
  drifts: readonly Drift[], resourceTypes: readonly ResourceKindName[], replicaRegions: readonly string[],
  counts: { compared: number; ignored: number; deferred: number },
): ReportSummary {
  const zero = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<string, number>;
  const byDriftType = zero(Object.values(DriftType));
  const byResourceType = zero(resourceTypes);
  const byReplicaRegion = zero(replicaRegions);
  let remediated = 0;
  let remediationFailures = 0;
  for (const d of drifts) {
    byDriftType[d.driftType]++;
    byResourceType[d.kind] = (byResourceType[d.kind] ?? 0) + 1;
    byReplicaRegion[d.replicaRegion] = (byReplicaRegion[d.replicaRegion] ?? 0) + 1;
    if (d.autoRemediation?.status === 'repaired') remediated++;
    if (d.autoRemediation?.status === 'failed') remediationFailures++;
  }
  return {
    driftCount: drifts.length,
    hasDrift: drifts.length > 0,
    byDriftType,
    byResourceType,
    byReplicaRegion,
    itemsCompared: counts.compared,
    itemsIgnored: counts.ignored,
    itemsDeferred: counts.deferred,
    scanFailures: byDriftType[DriftType.SCAN_FAILED],
    remediated,
    remediationFailures,
  };
}

/**
 * Emits the scan's metrics (EMF): `DriftCount` and `HasDrift` in total, per resource type and per
 * replica region, zeros included so alarms and dashboards always have a datapoint; the counters in
 * total only.
 */
export function emitScanMetrics(summary: ReportSummary, remediationMode: RemediationModeName): void {
  metrics.addMetric(DriftMetric.DRIFT_COUNT, MetricUnit.Count, summary.driftCount);
  metrics.addMetric(DriftMetric.HAS_DRIFT, MetricUnit.Count, summary.hasDrift ? 1 : 0);
  metrics.addMetric(DriftMetric.SCAN_FAILURES, MetricUnit.Count, summary.scanFailures);
  metrics.addMetric(DriftMetric.ITEMS_COMPARED, MetricUnit.Count, summary.itemsCompared);
  metrics.addMetric(DriftMetric.DEFERRED_ITEMS, MetricUnit.Count, summary.itemsDeferred);
  if (remediationMode !== 'OFF') {
    metrics.addMetric(DriftMetric.REMEDIATED_ITEMS, MetricUnit.Count, summary.remediated);
    metrics.addMetric(DriftMetric.REMEDIATION_FAILURES, MetricUnit.Count, summary.remediationFailures);
  }
  const split = (dimension: string, counts: Record<string, number>) => {
    for (const [value, count] of Object.entries(counts)) {
      dimensioned(dimension, value, DriftMetric.DRIFT_COUNT, MetricUnit.Count, count);
      dimensioned(dimension, value, DriftMetric.HAS_DRIFT, MetricUnit.Count, count > 0 ? 1 : 0);
    }
  };
  split(RESOURCE_TYPE_DIMENSION, summary.byResourceType);
  split(REPLICA_REGION_DIMENSION, summary.byReplicaRegion);
}

function dimensioned(dimension: string, value: string, name: string, unit: MetricUnitType, count: number): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, unit, count);
}

/** Where a report is written: a dated key and the `latest.json` next to the prefix. */
export function reportKeys(prefix: string, runId: string, at: Date): { dated: string; latest: string } {
  const day = at.toISOString().slice(0, 10).replace(/-/g, '/');
  return { dated: `${prefix}${day}/${runId}.json`, latest: `${prefix}latest.json` };
}

/** Writes the report under its dated key and as `latest.json`; returns the dated `s3://` URI. */
export async function writeReport(clients: ClientCache, region: string, bucket: string, prefix: string, report: DriftReport): Promise<string> {
  const client = clients.get(S3Client, { region });
  const keys = reportKeys(prefix, report.runId, new Date(report.startedAt));
  const body = JSON.stringify(report, null, 2);
  for (const key of [keys.dated, keys.latest]) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
  }
  return `s3://${bucket}/${keys.dated}`;
}

/** The short human-readable summary logged after every scan. */
export function humanSummary(report: DriftReport, location?: string): string {
  const s = report.summary;
  const nonZero = (counts: Record<string, number>) => Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const lines = [
    `Drift scan ${report.runId} (${report.trigger}): ${s.driftCount === 0 ? 'no drift' : `${s.driftCount} drift${s.driftCount === 1 ? '' : 's'}`} `
      + `across ${report.replicaRegions.length} replica region(s) of ${report.primaryRegion}; ${s.itemsCompared} comparisons, `
      + `${s.itemsDeferred} deferred (changed in the last ${report.graceWindowSeconds} s), ${s.itemsIgnored} ignored.`,
  ];
  if (s.driftCount > 0) {
    lines.push(`By type: ${nonZero(s.byDriftType)}. By resource: ${nonZero(s.byResourceType)}. By region: ${nonZero(s.byReplicaRegion)}.`);
  }
  if (report.remediationMode !== 'OFF') {
    lines.push(`Auto-remediation (${report.remediationMode}): ${s.remediated} repaired, ${s.remediationFailures} failed.`);
  }
  if (location) lines.push(`Report: ${location}`);
  return lines.join(' ');
}

/** The value-free result a manual check returns synchronously. */
export interface ScanResult {
  readonly action: string;
  readonly runId: string;
  readonly reportLocation?: string;
  readonly summary: ReportSummary;
  readonly scopes: ScopeStatus[];
  readonly drifts: Drift[];
  readonly driftsTruncated: boolean;
  readonly deferred: Deferral[];
  readonly message: string;
  readonly durationMs: number;
}

/** Builds the manual check's return value from the report. */
export function scanResult(report: DriftReport, reportLocation: string | undefined, message: string, durationMs: number): ScanResult {
  return {
    action: report.trigger,
    runId: report.runId,
    ...(reportLocation ? { reportLocation } : {}),
    summary: report.summary,
    scopes: report.scopes,
    drifts: report.drifts.slice(0, MAX_INLINE_DRIFTS),
    driftsTruncated: report.drifts.length > MAX_INLINE_DRIFTS,
    deferred: report.deferred.slice(0, MAX_INLINE_DRIFTS),
    message,
    durationMs,
  };
}

/** `{ region, cluster? }` of a location, for the report. */
export function locationFields(location: Location): { region: string; cluster?: string } {
  return { region: location.region, ...(location.cluster !== undefined ? { cluster: location.cluster } : {}) };
}
