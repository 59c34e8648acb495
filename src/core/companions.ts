import { IConstruct } from 'constructs';

/**
 * Which constructs work next to a secret replicator, so that its cross-region-config document says
 * which pieces run with it (`driftDetectionEnabled`, `configMapSyncEnabled`, fields of the Parameter
 * Store document layout). A drift detector or ConfigMap syncer registers itself here; the replicator
 * reads the registry when the template is synthesized. Internal.
 */
export const COMPANION_DRIFT_DETECTION = 'drift-detection';
export const COMPANION_CONFIGMAP_SYNC = 'configmap-sync';

const companions = new WeakMap<IConstruct, Set<string>>();

/** Records that a construct of `kind` works with `replicator`. */
export function addCompanion(replicator: IConstruct, kind: string): void {
  const kinds = companions.get(replicator) ?? new Set<string>();
  kinds.add(kind);
  companions.set(replicator, kinds);
}

/** Whether a construct of `kind` named `replicator` as theirs. */
export function hasCompanion(replicator: IConstruct, kind: string): boolean {
  return companions.get(replicator)?.has(kind) ?? false;
}
