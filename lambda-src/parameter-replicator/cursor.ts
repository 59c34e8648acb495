import type {
  LegacyParameterReconcileCursor, ParameterReconcileCursor, ParameterRegionPosition, ParameterReplicaTargetConfig,
} from '../../src/parameter-replicator/contract';

/** Longest parameter name Parameter Store accepts (with its path). */
export const MAX_NAME_CHARS = 2048;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** A cursor as a payload carries it: the per-region shape, or the one-region-at-a-time shape of earlier releases. */
export type CarriedCursor = ParameterReconcileCursor | LegacyParameterReconcileCursor;

/** A cursor that cannot be used. Its message names what is wrong, never a parameter name. */
export class UnusableCursor extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableCursor';
  }
}

const SHAPE = 'cursor must be {"regions": [{"targetIndex": integer >= 0, "region": region name, "after"?: parameter name}, ...]} '
  + 'or {"targetIndex": integer >= 0, "after"?: parameter name}';

function isAfter(v: unknown): boolean {
  return v === undefined || (typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS);
}

/** Checks a cursor's shape (either shape); throws `UnusableCursor` naming the shape expected. Returns a copy without unknown fields. */
export function parseCursor(raw: unknown): CarriedCursor {
  const c = raw as Record<string, any> | null;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new UnusableCursor(SHAPE);
  if (c.regions !== undefined) {
    if (!Array.isArray(c.regions)) throw new UnusableCursor(SHAPE);
    const regions: ParameterRegionPosition[] = c.regions.map((p: any) => {
      if (p === null || typeof p !== 'object' || !Number.isInteger(p.targetIndex) || p.targetIndex < 0
        || typeof p.region !== 'string' || !REGION.test(p.region) || !isAfter(p.after)) {
        throw new UnusableCursor(SHAPE);
      }
      return { targetIndex: p.targetIndex, region: p.region, ...(p.after !== undefined ? { after: p.after } : {}) };
    });
    return { regions };
  }
  if (!Number.isInteger(c.targetIndex) || c.targetIndex < 0 || !isAfter(c.after)) throw new UnusableCursor(SHAPE);
  return { targetIndex: c.targetIndex, ...(c.after !== undefined ? { after: c.after } : {}) };
}

/**
 * The per-region cursor `cursor` means for `targets`, regions in target order. A legacy cursor
 * resumes its region after `after` and the later regions from their first name (the earlier ones
 * were done). Throws `UnusableCursor` when the cursor names a region the targets no longer hold at
 * that index (the targets changed since it was made), repeats a region, or is past the last region.
 */
export function resolveCursor(cursor: CarriedCursor, targets: readonly ParameterReplicaTargetConfig[]): ParameterReconcileCursor {
  if (!('regions' in cursor)) {
    if (cursor.targetIndex >= targets.length) {
      throw new UnusableCursor(`cursor.targetIndex ${cursor.targetIndex} is past the last of the ${targets.length} replica regions`);
    }
    return {
      regions: targets.slice(cursor.targetIndex).map((t, i) => ({
        targetIndex: cursor.targetIndex + i, region: t.region, ...(i === 0 && cursor.after !== undefined ? { after: cursor.after } : {}),
      })),
    };
  }
  const seen = new Set<number>();
  for (const p of cursor.regions) {
    if (p.targetIndex >= targets.length || targets[p.targetIndex].region !== p.region) {
      throw new UnusableCursor(`cursor names region ${p.region} at targetIndex ${p.targetIndex}, which the replica targets no longer hold there`);
    }
    if (seen.has(p.targetIndex)) throw new UnusableCursor(`cursor names targetIndex ${p.targetIndex} twice`);
    seen.add(p.targetIndex);
  }
  return { regions: [...cursor.regions].sort((a, b) => a.targetIndex - b.targetIndex) };
}
