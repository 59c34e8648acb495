import type { RolloutConfig, WorkloadSelectorConfig } from '../../src/configmap-syncer/contract';
import { SyncEnv } from '../../src/configmap-syncer/contract';
import { requireJsonEnv } from '../shared/env';

const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'];
/** A workload name (DNS-1123 subdomain). */
const OBJECT_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The name part of an annotation key: the ConfigMap's name is one in the rollout annotations. */
const ANNOTATION_NAME = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Reads a target's `workloads`; `undefined` when it names none. Throws naming the bad value. */
export function readWorkloadSelectors(raw: unknown, where: string, configMapName: string): WorkloadSelectorConfig[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new Error(`${where}.workloads must be a JSON array of {"kind", "name"} or {"kind", "labelSelector"}`);
  if (raw.length > 0 && !ANNOTATION_NAME.test(configMapName)) {
    throw new Error(`${where} names workloads, so its configMapName must be at most 63 characters (it is part of an annotation key), but got ${JSON.stringify(configMapName)}`);
  }
  return raw.map((w: any, j): WorkloadSelectorConfig => {
    const at = `${where}.workloads[${j}]`;
    if (!KINDS.includes(w?.kind)) throw new Error(`${at}.kind must be one of ${KINDS.join(', ')}, but got ${JSON.stringify(w?.kind)}`);
    const byName = w.name !== undefined;
    const bySelector = w.labelSelector !== undefined;
    if (byName === bySelector) throw new Error(`${at} must have exactly one of name and labelSelector`);
    if (byName && (typeof w.name !== 'string' || !OBJECT_NAME.test(w.name))) {
      throw new Error(`${at}.name must be a DNS-1123 subdomain, but got ${JSON.stringify(w.name)}`);
    }
    if (bySelector && (typeof w.labelSelector !== 'string' || w.labelSelector.trim() === '')) {
      throw new Error(`${at}.labelSelector must be a non-empty label selector, but got ${JSON.stringify(w.labelSelector)}`);
    }
    return { kind: w.kind, ...(byName ? { name: w.name } : { labelSelector: w.labelSelector }) };
  });
}

/** Reads `ROLLOUT`; `undefined` when unset. Throws naming the bad field. */
export function readRolloutConfig(env: NodeJS.ProcessEnv): RolloutConfig | undefined {
  if (!env[SyncEnv.ROLLOUT]) return undefined;
  const raw = requireJsonEnv<any>(SyncEnv.ROLLOUT, env);
  const name = `environment variable ${SyncEnv.ROLLOUT}`;
  if (raw?.waves !== 'primary-first' && raw?.waves !== 'region-by-region') {
    throw new Error(`${name} must have waves "primary-first" or "region-by-region", but got ${JSON.stringify(raw?.waves)}`);
  }
  const seconds = (field: string, optional = false): number | undefined => {
    const value = raw[field];
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(`${name} must have ${field} as a whole number of seconds (0 or more), but got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const waveWaitSeconds = seconds('waveWaitSeconds', true);
  return {
    waves: raw.waves,
    pauseSeconds: seconds('pauseSeconds')!,
    rolloutTimeoutSeconds: seconds('rolloutTimeoutSeconds')!,
    pollSeconds: seconds('pollSeconds')!,
    ...(waveWaitSeconds !== undefined ? { waveWaitSeconds } : {}),
  };
}
