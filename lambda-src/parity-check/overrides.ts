import type { ParameterOverrideConfig } from '../../src/parity-check/contract';
import { LocationRead } from '../shared/comparison/compare';
import { RunDigest } from '../shared/comparison/digest';
import { IgnoreRules } from '../shared/comparison/ignore';
import { Drift } from '../shared/comparison/model';

/** What honouring the declared per-region values of one parameter scope needs. */
export interface OverrideContext {
  readonly primary: LocationRead;
  /** The target region's read. */
  readonly replica: LocationRead;
  readonly overrides: readonly ParameterOverrideConfig[];
  /** The run's digest: the declared value is compared by the same keyed digest as the read values. */
  readonly digest: RunDigest;
  readonly ignore: IgnoreRules;
  /** Items the comparison left for a later check (changed within the grace window). */
  readonly deferred: ReadonlySet<string>;
}

type Finding = Omit<Drift, 'remediation'>;

/**
 * Makes a declared per-region value the expected value of a parameter in the target region: a
 * replica holding the declared value agrees, one holding anything else (the primary's value
 * included) is a `VALUE_MISMATCH`. Idempotent over a comparison that already honours overrides:
 * it only decides the value finding of overridden parameters, from the digests themselves.
 */
export function applyParameterOverrides(drifts: readonly Finding[], context: OverrideContext): Finding[] {
  const { primary, replica } = context;
  if (!('inventory' in primary) || !('inventory' in replica)) return [...drifts];
  const region = replica.location.region;
  const overridden = new Map<string, string>();
  for (const o of context.overrides) {
    if (o.region !== region || !primary.inventory.items.has(o.name)) continue;
    if (context.deferred.has(o.name) || context.ignore.ignoresItem('parameter', o.name, region)) continue;
    overridden.set(o.name, o.value);
  }
  if (overridden.size === 0) return [...drifts];
  const result = drifts.filter((d) => !(d.driftType === 'VALUE_MISMATCH' && overridden.has(d.name)));
  for (const [name, value] of overridden) {
    const held = replica.inventory.items.get(name);
    if (!held || held.digest === context.digest.ofString(value)) continue;
    const like = drifts.find((d) => d.name === name);
    result.push({
      kind: 'parameter',
      name,
      driftType: 'VALUE_MISMATCH',
      primaryRegion: primary.location.region,
      replicaRegion: region,
      detectedAt: like?.detectedAt ?? new Date().toISOString(),
    });
  }
  return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
