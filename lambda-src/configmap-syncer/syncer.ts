import { SyncError } from './errors';
import { checkDataSize, contentHash, ExcludedKey, selectData } from './selection';
import { readSource, SourceKeys, SourceLocation } from './source';
import type { KubernetesClusterConfig, SyncAction, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { CLUSTER_DIMENSION, CONFIGMAP_FIELD_MANAGER, CONTENT_HASH_ANNOTATION, SyncMetric } from '../../src/configmap-syncer/contract';
import type { ClientCache } from '../shared/clients';
import { mapWhile } from '../shared/continuation';
import { ConfigMapObject, KubernetesApiError, KubernetesClient } from '../shared/kubernetes';
import { addSplitMetric, errorFields, logger, MetricUnit } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';

/**
 * Targets synced at once. Each target is two or three sequential requests to its API server;
 * eight in flight keep a sync of dozens of targets within seconds without a burst of connections.
 */
const TARGET_CONCURRENCY = 8;

/** Settings of one syncer deployment (from the environment). */
export interface SyncerSettings extends SourceLocation {
  readonly targets: readonly SyncTargetConfig[];
  /** Key names and globs; empty means every key. */
  readonly includeKeys: readonly string[];
  readonly excludeSensitiveKeys: boolean;
  /** Take over keys another field manager owns (server-side apply `force`). */
  readonly forceConflicts: boolean;
}

/** The part of a cluster's Kubernetes client the syncer uses. */
export type ConfigMapApi = Pick<KubernetesClient, 'getConfigMap' | 'applyConfigMap' | 'ensureNamespace'>;

/** Where the syncer gets a cluster's client: normally a `KubernetesAccess`. */
export interface ClusterClients {
  client(cluster: KubernetesClusterConfig): Promise<ConfigMapApi>;
}

/**
 * What happened to one target: `applied` (the ConfigMap was created or its content changed),
 * `unchanged` (already in sync), `would-apply` / `would-be-unchanged` (the same for test_sync, a
 * server-side dry run) or `failed`.
 */
export type SyncOutcome = 'applied' | 'unchanged' | 'would-apply' | 'would-be-unchanged' | 'failed';

/** The value-free result of one target. */
export interface TargetResult {
  readonly cluster: string;
  readonly region: string;
  readonly namespace: string;
  readonly configMapName: string;
  readonly outcome: SyncOutcome;
  /** Keys applied (or that would be): the selected, non-sensitive source keys. */
  readonly keys: number;
  /** Names of the keys refused as sensitive. */
  readonly keysExcluded: string[];
  /** On failure: the Kubernetes reason (`Forbidden`, `Conflict`, `ECONNREFUSED`, ...) or the error's name. */
  readonly errorName?: string;
  /** On failure: the HTTP status, when there was one. */
  readonly httpStatus?: number;
  /** On failure: the message, when it is value-free by construction (the syncer's and the Kubernetes client's). */
  readonly errorMessage?: string;
  /** On a conflict: the field managers that own keys the syncer applies. */
  readonly conflictingManagers?: string[];
}

/** The value-free result of one invocation. */
export interface SyncSummary {
  readonly action: SyncAction | 'ignored';
  /** What started it: `sync`, `test_sync`, `schedule`, `Parameter Store Change` or a Secrets Manager event name. */
  readonly trigger: string;
  /** Why nothing was synced, for an ignored event. */
  readonly reason?: string;
  readonly targets: TargetResult[];
  readonly durationMs: number;
}

/** The data every target gets, prepared once per run. */
interface Ready {
  readonly data: Record<string, string>;
  readonly hash: string;
  readonly excluded: ExcludedKey[];
}

/** Why no target can be synced this run (the source is unreadable or too large). */
interface Unready {
  readonly failure: unknown;
  readonly keys: number;
  readonly excluded: ExcludedKey[];
}

type Prepared = Ready | Unready;

/**
 * Syncs the source keys to every target ConfigMap with server-side apply. One instance per
 * execution environment; clients are reused across invocations.
 *
 * @example
 * const syncer = new ConfigMapSyncer(settings, clients, new KubernetesAccess(clients));
 * const summary = await syncer.sync({ action: 'test_sync', trigger: 'test_sync' });
 */
export class ConfigMapSyncer {
  /** The content hash the last run prepared (also a dry run's); undefined when the source could not be read. */
  public preparedHash?: string;

  constructor(
    private readonly settings: SyncerSettings,
    private readonly clients: ClientCache,
    private readonly kubernetes: ClusterClients,
  ) {}

  /**
   * Reads the source once and applies it to every target (at most {@link TARGET_CONCURRENCY} at
   * once). One target's failure never stops the others; with `test_sync` nothing is written and no
   * metric is emitted.
   */
  async sync(run: { readonly action: SyncAction; readonly trigger: string }): Promise<SyncSummary> {
    return (await this.syncWithin(run, RunBudget.unbounded(), 0)).summary;
  }

  /**
   * Like `sync`, for the targets from index `from` on, in order, starting a target only while
   * `budget` allows (and always at least one, so that every invocation makes progress). Returns
   * the summary of the targets started and the index of the first target not started (`next`,
   * undefined when none is left).
   */
  async syncWithin(
    run: { readonly action: SyncAction; readonly trigger: string }, budget: RunBudget, from: number,
  ): Promise<{ readonly summary: SyncSummary; readonly next?: number }> {
    const started = Date.now();
    const dryRun = run.action === 'test_sync';
    const prepared = await this.prepare();
    this.preparedHash = 'hash' in prepared ? prepared.hash : undefined;
    const pending = this.settings.targets.slice(from);
    let begun = 0;
    const settled = await mapWhile(pending, TARGET_CONCURRENCY, () => begun++ === 0 || budget.shouldStartMore(),
      (target) => this.syncTarget(target, prepared, dryRun));
    const targets = settled.map((s, i) => (s.status === 'fulfilled' ? s.value : this.failed(pending[i], prepared, s.reason)));
    if (!dryRun) {
      for (const t of targets) {
        const cluster = `${t.region}/${t.cluster}`;
        addSplitMetric(t.outcome === 'failed' ? SyncMetric.SYNC_FAILURE : SyncMetric.SYNC_SUCCESS, MetricUnit.Count, 1, CLUSTER_DIMENSION, cluster);
        addSplitMetric(SyncMetric.KEYS_EXCLUDED, MetricUnit.Count, t.keysExcluded.length, CLUSTER_DIMENSION, cluster);
      }
    }
    const counts: Record<string, number> = {};
    for (const t of targets) counts[t.outcome] = (counts[t.outcome] ?? 0) + 1;
    const next = from + targets.length;
    logger.info(next < this.settings.targets.length ? 'sync stopped for the time left' : 'sync finished', {
      action: run.action, trigger: run.trigger, targets: targets.length, outcomes: counts,
    });
    return {
      summary: { action: run.action, trigger: run.trigger, targets, durationMs: Date.now() - started },
      ...(next < this.settings.targets.length ? { next } : {}),
    };
  }

  /** Reads and selects the source, and checks its size: once per run, whatever the number of targets. */
  private async prepare(): Promise<Prepared> {
    let source: SourceKeys;
    try {
      source = await readSource(this.clients, this.settings);
    } catch (e) {
      logger.error('the source could not be read; no target is synced', { ...errorFields(e), ...(e instanceof SyncError ? { errorMessage: e.message } : {}) });
      return { failure: e, keys: 0, excluded: [] };
    }
    const selection = selectData(source.entries, this.settings);
    if (selection.invalidKeys.length > 0) {
      logger.warn('source keys skipped: not valid ConfigMap keys ([-._a-zA-Z0-9]+, at most 253 characters)', { keys: selection.invalidKeys });
    }
    if (selection.excluded.length > 0) {
      logger.warn('source keys refused: their names or values look sensitive', {
        keys: selection.excluded.map((x) => x.key),
        reasons: Object.fromEntries(selection.excluded.map((x) => [x.key, x.reason])),
      });
    }
    const keys = Object.keys(selection.data).length;
    if (keys === 0) logger.warn('no source key is selected: every target ConfigMap keeps only keys of other field managers');
    try {
      checkDataSize(selection.data);
    } catch (e) {
      logger.error('the selected keys do not fit in a ConfigMap; no target is synced', { errorName: (e as Error).name, errorMessage: (e as Error).message });
      return { failure: e, keys, excluded: selection.excluded };
    }
    return { data: selection.data, hash: contentHash(selection.data), excluded: selection.excluded };
  }

  private async syncTarget(target: SyncTargetConfig, prepared: Prepared, dryRun: boolean): Promise<TargetResult> {
    if ('failure' in prepared) return this.failed(target, prepared, prepared.failure);
    const { namespace, configMapName: name } = target;
    try {
      const client = await this.kubernetes.client(target.cluster);
      // A dry run creates nothing, not even the namespace: a missing one shows as NotFound below.
      if (target.createNamespace && !dryRun) await client.ensureNamespace(namespace, CONFIGMAP_FIELD_MANAGER);
      const before = await client.getConfigMap(namespace, name);
      let after: ConfigMapObject;
      try {
        after = await client.applyConfigMap({
          namespace,
          name,
          data: prepared.data,
          annotations: { [CONTENT_HASH_ANNOTATION]: prepared.hash },
          fieldManager: CONFIGMAP_FIELD_MANAGER,
          force: this.settings.forceConflicts,
          dryRun,
        });
      } catch (e) {
        if (dryRun && target.createNamespace && e instanceof KubernetesApiError && e.statusCode === 404) {
          return this.succeeded(target, prepared, 'would-apply');
        }
        throw e;
      }
      // A real apply that changes nothing writes nothing, so the resourceVersion stays. A dry run
      // stores nothing, so its resourceVersion says nothing: its result is compared with what is there.
      const changed = before === undefined || (dryRun ? !sameContent(before, after) : before.resourceVersion !== after.resourceVersion);
      const outcome: SyncOutcome = dryRun ? (changed ? 'would-apply' : 'would-be-unchanged') : (changed ? 'applied' : 'unchanged');
      return this.succeeded(target, prepared, outcome);
    } catch (e) {
      return this.failed(target, prepared, e);
    }
  }

  private succeeded(target: SyncTargetConfig, prepared: Ready, outcome: SyncOutcome): TargetResult {
    const keys = Object.keys(prepared.data).length;
    logger.info(outcome.startsWith('would') ? 'configmap dry run' : 'configmap synced', { ...identity(target), outcome, keys });
    return { ...identity(target), outcome, keys, keysExcluded: prepared.excluded.map((x) => x.key) };
  }

  private failed(target: SyncTargetConfig, prepared: Prepared, error: unknown): TargetResult {
    const keys = 'failure' in prepared ? prepared.keys : Object.keys(prepared.data).length;
    const details = failureDetails(error);
    // Source failures were logged once in prepare(); each target still reports and counts one.
    if (!('failure' in prepared)) logger.error('configmap sync failed', { ...identity(target), ...details });
    return { ...identity(target), outcome: 'failed', keys, keysExcluded: prepared.excluded.map((x) => x.key), ...details };
  }
}

function identity(target: SyncTargetConfig) {
  return { cluster: target.cluster.name, region: target.cluster.region, namespace: target.namespace, configMapName: target.configMapName };
}

/** The value-free description of a failure: Kubernetes reason, HTTP status, managers and, for our own errors, the message. */
function failureDetails(error: unknown): Pick<TargetResult, 'errorName' | 'httpStatus' | 'errorMessage' | 'conflictingManagers'> {
  if (error instanceof KubernetesApiError) {
    return {
      errorName: error.reason,
      ...(error.statusCode ? { httpStatus: error.statusCode } : {}),
      errorMessage: error.message,
      ...(error.conflictingManagers?.length ? { conflictingManagers: error.conflictingManagers } : {}),
    };
  }
  const fields = errorFields(error);
  return {
    errorName: fields.errorName,
    ...(fields.httpStatus ? { httpStatus: fields.httpStatus } : {}),
    ...(error instanceof SyncError ? { errorMessage: error.message } : {}),
  };
}

/** Whether a dry-run result holds what is there already (compared in memory, never logged). */
function sameContent(before: ConfigMapObject, after: ConfigMapObject): boolean {
  return sameRecord(before.data, after.data) && sameRecord(before.annotations, after.annotations) && sameRecord(before.labels, after.labels)
    && sameKeys(before.binaryDataKeys, after.binaryDataKeys);
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((k, i) => k === sortedB[i]);
}
