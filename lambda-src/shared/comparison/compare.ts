import { IgnoreRules } from './ignore';
import { Deferral, Drift, DriftDetail, Inventory, Item, Location, ReadFailure, Scope } from './model';
import type { DriftTypeName } from '../../../src/core/comparison-contract';
import { DriftType } from '../../../src/core/comparison-contract';

/** What comparing needs besides the inventories. */
export interface CompareOptions {
  readonly ignore: IgnoreRules;
  /** Items changed in the primary less than this many milliseconds ago are deferred. */
  readonly graceWindowMs: number;
  readonly reportExtraItems: boolean;
  readonly now: Date;
}

/** A location's read: its inventory, or why it could not be read. */
export type LocationRead =
  | { readonly location: Location; readonly inventory: Inventory }
  | { readonly location: Location; readonly failure: ReadFailure };

/** The value-free outcome of comparing one scope. */
export interface ScopeComparison {
  /** Drifts without remediation guidance yet (added by the caller). */
  readonly drifts: Array<Omit<Drift, 'remediation'>>;
  readonly deferrals: Deferral[];
  /** (item, replica location) pairs compared. */
  readonly compared: number;
  /** (item, replica location) pairs skipped by ignore rules. */
  readonly ignored: number;
  /** Items read in the primary. */
  readonly primaryItems: number;
}

/**
 * Compares every replica location of a scope with its primary. Pure: no I/O, no values (only
 * keyed digests and metadata), deterministic order (by item name, then location order).
 */
export function compareScope(scope: Scope, primary: LocationRead, replicas: readonly LocationRead[], options: CompareOptions): ScopeComparison {
  const drifts: Array<Omit<Drift, 'remediation'>> = [];
  const deferrals: Deferral[] = [];
  let compared = 0;
  let ignored = 0;
  const detectedAt = options.now.toISOString();
  const base = (location: Location, name: string, driftType: DriftTypeName) => ({
    kind: scope.kind,
    name,
    driftType,
    primaryRegion: scope.primary.region,
    replicaRegion: location.region,
    ...(scope.primary.cluster !== undefined ? { primaryCluster: scope.primary.cluster } : {}),
    ...(location.cluster !== undefined ? { replicaCluster: location.cluster } : {}),
    detectedAt,
  });
  const failed = (location: Location, name: string, where: 'primary' | 'replica', failure: ReadFailure, region: string) => ({
    ...base(location, name, DriftType.SCAN_FAILED),
    failure: { location: where, region, errorName: failure.errorName, ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}) },
  });

  if ('failure' in primary) {
    // Nothing can be compared: one scan failure per replica location, named after the scope.
    for (const r of replicas) drifts.push(failed(r.location, scope.label, 'primary', primary.failure, primary.location.region));
    return { drifts, deferrals, compared, ignored, primaryItems: 0 };
  }

  const primaryItems = primary.inventory.items;
  const names = [...new Set([...primaryItems.keys(), ...primary.inventory.itemFailures.keys()])].sort();
  const due = new Set<string>();
  for (const name of names) {
    const item = primaryItems.get(name);
    const changedAt = item?.changedAt?.getTime();
    if (changedAt !== undefined && options.now.getTime() - changedAt < options.graceWindowMs) {
      deferrals.push({
        kind: scope.kind,
        name,
        changedAt: new Date(changedAt).toISOString(),
        recheckAfter: new Date(changedAt + options.graceWindowMs).toISOString(),
      });
    } else {
      due.add(name);
    }
  }

  for (const r of replicas) {
    const region = r.location.region;
    if ('failure' in r) {
      drifts.push(failed(r.location, scope.label, 'replica', r.failure, region));
      continue;
    }
    const replicaItems = r.inventory.items;
    for (const name of names) {
      if (!due.has(name)) continue;
      if (options.ignore.ignoresItem(scope.kind, name, region)) {
        ignored++;
        continue;
      }
      compared++;
      const primaryFailure = primary.inventory.itemFailures.get(name);
      if (primaryFailure) {
        drifts.push(failed(r.location, name, 'primary', primaryFailure, scope.primary.region));
        continue;
      }
      const replicaFailure = r.inventory.itemFailures.get(name);
      if (replicaFailure) {
        drifts.push(failed(r.location, name, 'replica', replicaFailure, region));
        continue;
      }
      const p = primaryItems.get(name)!;
      const replica = replicaItems.get(name);
      if (!replica) {
        drifts.push(base(r.location, name, DriftType.MISSING_IN_REPLICA));
        continue;
      }
      const valueDetails = valueDifferences(scope, p, replica, r.location, options);
      if (valueDetails) {
        drifts.push({ ...base(r.location, name, DriftType.VALUE_MISMATCH), ...(valueDetails.length ? { details: valueDetails } : {}) });
      }
      const metadataDetails = metadataDifferences(scope.expectedMetadata(p, r.location), replica.metadata);
      if (metadataDetails.length > 0) drifts.push({ ...base(r.location, name, DriftType.METADATA_MISMATCH), details: metadataDetails });
    }
    if (options.reportExtraItems) {
      const extras = [...replicaItems.keys(), ...r.inventory.itemFailures.keys()]
        .filter((name) => !primaryItems.has(name) && !primary.inventory.itemFailures.has(name))
        .filter((name) => !options.ignore.ignoresItem(scope.kind, name, region));
      for (const name of [...new Set(extras)].sort()) drifts.push(base(r.location, name, DriftType.EXTRA_IN_REPLICA));
    }
  }
  return { drifts, deferrals, compared, ignored, primaryItems: names.length };
}

/**
 * `undefined` when the values agree; otherwise the differing ConfigMap keys (names only), or an
 * empty list for single-valued items.
 */
function valueDifferences(scope: Scope, primary: Item, replica: Item, location: Location, options: CompareOptions): DriftDetail[] | undefined {
  const region = location.region;
  if (!primary.keyDigests || !replica.keyDigests) {
    // A declared per-region value replaces the primary's as the expected one.
    const expected = scope.expectedDigest?.(primary, location) ?? primary.digest;
    return expected === replica.digest ? undefined : [];
  }
  const counted = (key: string) => !options.ignore.ignoresKey(scope.kind, primary.name, key, region);
  const details: DriftDetail[] = [];
  for (const key of Object.keys(primary.keyDigests).filter(counted).sort()) {
    const theirs = replica.keyDigests[key];
    if (theirs === undefined) details.push({ field: `key:${key}`, change: 'missing' });
    else if (theirs !== primary.keyDigests[key]) details.push({ field: `key:${key}`, change: 'changed' });
  }
  if (options.reportExtraItems) {
    for (const key of Object.keys(replica.keyDigests).filter(counted).sort()) {
      if (!(key in primary.keyDigests)) details.push({ field: `key:${key}`, change: 'extra' });
    }
  }
  return details.length > 0 ? details : undefined;
}

function metadataDifferences(expected: Readonly<Record<string, string>>, actual: Readonly<Record<string, string>>): DriftDetail[] {
  return Object.keys(expected).sort()
    .filter((field) => (actual[field] ?? '') !== expected[field])
    .map((field) => ({ field, primary: expected[field], replica: actual[field] ?? '' }));
}
