import type { KubernetesClusterConfig, RolloutConfig, SyncTargetConfig, WorkloadSelectorConfig } from '../../src/configmap-syncer/contract';
import {
  CLUSTER_DIMENSION, CONFIGMAP_FIELD_MANAGER, CONTENT_HASH_ANNOTATION, ROLLOUT_ANNOTATION, ROLLOUT_FIELD_MANAGER_PREFIX, RolloutMetric,
} from '../../src/configmap-syncer/contract';
import { KubernetesApiError, KubernetesClient, WorkloadKind, WorkloadObject } from '../shared/kubernetes';
import { addSplitMetric, errorFields, logger, MetricUnit } from '../shared/observability';

/** The part of a cluster's Kubernetes client the rollout uses. */
export type WorkloadApi = Pick<KubernetesClient, 'getConfigMap' | 'getWorkload' | 'listWorkloads' | 'applyWorkloadAnnotations'>;

/** Where the rollout gets a cluster's client: normally the syncer's `KubernetesAccess`. */
export interface WorkloadClients {
  client(cluster: KubernetesClusterConfig): Promise<WorkloadApi>;
}

/**
 * What happened to one workload in the last pass of an invocation:
 * - `adopted`: seen for the first time; recorded as having the current data, not restarted.
 * - `unchanged`: its pods have the current data (rolled or adopted earlier).
 * - `started`: its pod template annotation was changed now, which starts a rolling update.
 * - `rolling`: a rollout started earlier is in progress.
 * - `completed`: a rollout was seen complete in this invocation.
 * - `failed`: its rollout did not complete within the timeout (now or earlier, for this data).
 * - `paused`: the data changed less than the pause period ago; changes until then make one rollout.
 * - `waiting`: an earlier wave has not completed yet.
 * - `halted`: an earlier wave has a failed rollout; its pods are kept until the data changes again.
 * - `error`: the workload could not be read or patched (`errorName`, `httpStatus`).
 * - `would-roll` / `would-adopt`: test_sync's answer (nothing is written).
 */
export type WorkloadOutcome = 'adopted' | 'unchanged' | 'started' | 'rolling' | 'completed' | 'failed' | 'paused' | 'waiting' | 'halted' | 'error'
| 'would-roll' | 'would-adopt';

/** The value-free result of one workload (or of a selector that failed before any workload was known). */
export interface WorkloadResult {
  readonly cluster: string;
  readonly region: string;
  readonly namespace: string;
  readonly configMapName: string;
  readonly kind: WorkloadKind;
  /** The workload's name; for a failed label selector, the selector. */
  readonly name: string;
  /** Wave of the workload's cluster: 0 for the primary region, then the others. */
  readonly wave: number;
  readonly outcome: WorkloadOutcome;
  readonly errorName?: string;
  readonly httpStatus?: number;
  readonly errorMessage?: string;
}

/** The rollout part of an invocation's summary. */
export interface RolloutSummary {
  /** Number of waves (distinct wave numbers of the targets that name workloads). */
  readonly waves: number;
  /** True when a failed rollout stops later waves. */
  readonly halted: boolean;
  /** True when a pause, a rollout or a wave is still in progress: a later invocation moves it on. */
  readonly inProgress: boolean;
  /** Rollouts started, seen complete and failed during this invocation. */
  readonly started: number;
  readonly completed: number;
  readonly failed: number;
  readonly workloads: WorkloadResult[];
}

/** How a rollout waits: tests shorten it. */
export interface RolloutTiming {
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Pause between passes of one invocation (ms). @default 5000 */
  readonly pollIntervalMs?: number;
}

/** One workload as a pass sees it. */
interface Unit {
  readonly target: SyncTargetConfig;
  readonly wave: number;
  readonly workload?: WorkloadObject;
  readonly hash?: string;
  /** When the ConfigMap's data last changed (ms): the time of the syncer's managed fields. */
  readonly changedAt?: number;
  readonly selector?: WorkloadSelectorConfig;
  readonly error?: unknown;
}

const DEFAULT_POLL_INTERVAL_MS = 5_000;
/** Workloads read or patched at once per invocation. */
const WORKLOAD_CONCURRENCY = 8;

/**
 * Rolls the workloads that read the synced ConfigMaps when their data changes, in waves across
 * regions. The state of a rollout lives in the clusters, on each workload's annotations (see
 * `ROLLOUT_ANNOTATION`): every invocation derives the waves from it and moves them on, so a
 * rollout longer than one invocation continues with the next one (the schedule's at the latest),
 * and invocations running at once agree (their server-side applies are idempotent).
 *
 * @example
 * const rollout = new Rollout(config, 'us-east-1', settings.targets, access);
 * const summary = await rollout.run(Date.now() + 60_000);
 */
export class Rollout {
  private readonly now: () => number;
  private readonly pollIntervalMs: number;
  private readonly targets: readonly SyncTargetConfig[];
  private readonly waveOf: Map<SyncTargetConfig, number>;
  private readonly waveCount: number;

  constructor(
    private readonly config: RolloutConfig,
    primaryRegion: string,
    targets: readonly SyncTargetConfig[],
    private readonly clients: WorkloadClients,
    timing: RolloutTiming = {},
  ) {
    this.now = timing.now ?? Date.now;
    this.pollIntervalMs = timing.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.targets = targets.filter((t) => (t.workloads ?? []).length > 0);
    this.waveOf = assignWaves(this.targets, primaryRegion, config.waves);
    this.waveCount = new Set(this.waveOf.values()).size;
  }

  /**
   * Passes over every workload until nothing is in progress or `deadlineMs` (epoch ms) is reached,
   * and returns the last pass's outcomes. Never throws: a failure is that workload's outcome.
   */
  async run(deadlineMs: number): Promise<RolloutSummary> {
    const totals = { started: 0, completed: 0, failed: 0 };
    for (;;) {
      const pass = await this.pass();
      totals.started += pass.started;
      totals.completed += pass.completed;
      totals.failed += pass.failed;
      const summary: RolloutSummary = { ...pass, ...totals };
      const wait = Math.min(this.pollIntervalMs, pass.nextChangeMs ?? Infinity);
      if (!pass.inProgress || this.now() + wait >= deadlineMs) {
        logger.info('rollout pass finished', {
          waves: summary.waves, halted: summary.halted, inProgress: summary.inProgress, ...totals, outcomes: countOutcomes(summary.workloads),
        });
        return { waves: summary.waves, halted: summary.halted, inProgress: summary.inProgress, ...totals, workloads: summary.workloads };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  }

  /**
   * test_sync: which workloads the content hash `hash` would roll (`would-roll`), adopt
   * (`would-adopt`) or leave alone (`unchanged`). Reads only.
   */
  async plan(hash: string | undefined): Promise<RolloutSummary> {
    const units = await this.read(false);
    const workloads = units.map((u): WorkloadResult => {
      if (u.error !== undefined || !u.workload) return this.errorResult(u);
      const current = u.workload.annotations[key(ROLLOUT_ANNOTATION.HASH, u.target)];
      const outcome: WorkloadOutcome = current === undefined ? 'would-adopt' : (hash !== undefined && current !== hash ? 'would-roll' : 'unchanged');
      return this.result(u, outcome);
    });
    return { waves: this.waveCount, halted: false, inProgress: false, started: 0, completed: 0, failed: 0, workloads };
  }

  /** One pass: reads every workload, records adoptions and finished rollouts, and starts the waves that may start. */
  private async pass(): Promise<RolloutSummary & { nextChangeMs?: number }> {
    const now = this.now();
    const units = await this.read(true);
    const outcomes = new Map<Unit, WorkloadOutcome>();
    const counts = { started: 0, completed: 0, failed: 0 };
    let nextChangeMs: number | undefined;
    const soon = (ms: number) => { nextChangeMs = Math.min(nextChangeMs ?? Infinity, Math.max(0, ms)); };

    // What each workload's own state says, before the waves are considered.
    const pending: Unit[] = [];
    await forEachLimited(units, async (u) => {
      if (u.error !== undefined || !u.workload || u.hash === undefined) return;
      const w = u.workload;
      const rolled = w.annotations[key(ROLLOUT_ANNOTATION.HASH, u.target)];
      const state = w.annotations[key(ROLLOUT_ANNOTATION.STATE, u.target)];
      const started = Date.parse(w.annotations[key(ROLLOUT_ANNOTATION.STARTED, u.target)] ?? '');
      try {
        if (rolled === undefined) {
          await this.apply(u, { hash: u.hash, state: 'adopted' });
          outcomes.set(u, 'adopted');
        } else if (rolled !== u.hash) {
          const quietFor = now - (u.changedAt ?? 0);
          if (quietFor < this.config.pauseSeconds * 1000) {
            outcomes.set(u, 'paused');
            soon(this.config.pauseSeconds * 1000 - quietFor);
          } else {
            pending.push(u);
          }
        } else if (state === 'rolling') {
          if (isComplete(w, u.hash, u.target)) {
            await this.apply(u, { hash: u.hash, state: 'complete', started: w.annotations[key(ROLLOUT_ANNOTATION.STARTED, u.target)] });
            outcomes.set(u, 'completed');
            counts.completed++;
            this.count(u, RolloutMetric.ROLLOUTS_COMPLETED);
          } else if (!(now - started < this.config.rolloutTimeoutSeconds * 1000)) {
            await this.apply(u, { hash: u.hash, state: 'failed', started: w.annotations[key(ROLLOUT_ANNOTATION.STARTED, u.target)] });
            outcomes.set(u, 'failed');
            counts.failed++;
            this.count(u, RolloutMetric.ROLLOUTS_FAILED);
            logger.error('rollout did not complete within its timeout: later waves are not started', {
              ...this.identity(u),
              rolloutTimeoutSeconds: this.config.rolloutTimeoutSeconds,
              observedGeneration: w.observedGeneration,
              generation: w.generation,
              desired: w.desired,
              updated: w.updated,
              available: w.available,
            });
          } else {
            outcomes.set(u, 'rolling');
            soon(started + this.config.rolloutTimeoutSeconds * 1000 - now);
          }
        } else {
          outcomes.set(u, state === 'failed' ? 'failed' : 'unchanged');
        }
      } catch (e) {
        if (isLostRace(e)) {
          // Another invocation recorded this step first; the next pass reads what it wrote.
          outcomes.set(u, state === 'rolling' ? 'rolling' : 'waiting');
        } else {
          outcomes.set(u, 'error');
          (u as { error?: unknown }).error = e;
        }
      }
    });

    // The waves, in order: a wave starts once every earlier one is complete (or started at least
    // waveWaitSeconds ago), and never after a failed rollout in an earlier wave.
    const waves = [...new Set(units.map((u) => u.wave))].sort((a, b) => a - b);
    let halted = false;
    let blocked = false;
    for (const wave of waves) {
      const inWave = units.filter((u) => u.wave === wave && u.error === undefined && u.workload);
      const toStart = pending.filter((u) => u.wave === wave);
      if (halted || blocked) {
        for (const u of toStart) outcomes.set(u, halted ? 'halted' : 'waiting');
      } else {
        await forEachLimited(toStart, async (u) => {
          try {
            await this.apply(u, { hash: u.hash!, state: 'rolling', started: new Date(now).toISOString(), template: true });
            outcomes.set(u, 'started');
            counts.started++;
            this.count(u, RolloutMetric.ROLLOUTS_STARTED);
            logger.info('rollout started', this.identity(u));
          } catch (e) {
            if (isLostRace(e)) {
              // Another invocation started it at the same time.
              outcomes.set(u, 'rolling');
            } else {
              outcomes.set(u, 'error');
              (u as { error?: unknown }).error = e;
            }
          }
        });
      }
      for (const u of inWave) {
        const outcome = outcomes.get(u);
        if (outcome === 'failed') halted = true;
        if (outcome === 'paused' || outcome === 'waiting') blocked = true;
        if (outcome === 'started' || outcome === 'rolling') {
          // A start another invocation won has no start time in what this pass read: it started now.
          const startedAt = outcome === 'started' ? now : (Date.parse(u.workload!.annotations[key(ROLLOUT_ANNOTATION.STARTED, u.target)] ?? '') || now);
          const wait = this.config.waveWaitSeconds;
          if (wait === undefined || now - startedAt < wait * 1000) blocked = true;
          if (wait !== undefined && now - startedAt < wait * 1000) soon(startedAt + wait * 1000 - now);
        }
      }
    }

    const workloads = units.map((u) => {
      if (u.error !== undefined || !u.workload) {
        counts.failed++;
        this.count(u, RolloutMetric.ROLLOUTS_FAILED);
        return this.errorResult(u);
      }
      return this.result(u, outcomes.get(u) ?? 'unchanged');
    });
    const inProgress = workloads.some((w) => ['paused', 'rolling', 'waiting', 'started'].includes(w.outcome));
    return { waves: this.waveCount, halted, inProgress, ...counts, workloads, nextChangeMs };
  }

  /** Reads every target's ConfigMap hash and the workloads it names; a failure is that target's (or workload's) unit. */
  private async read(withConfigMap: boolean): Promise<Unit[]> {
    const perTarget: Unit[][] = new Array(this.targets.length);
    await forEachLimited(this.targets.map((target, index) => ({ target, index })), async ({ target, index }) => {
      perTarget[index] = await this.readTarget(target, withConfigMap);
    });
    return perTarget.flat();
  }

  /** One target's units: its ConfigMap's hash and the workloads it names (a failure is the unit's). */
  private async readTarget(target: SyncTargetConfig, withConfigMap: boolean): Promise<Unit[]> {
    const wave = this.waveOf.get(target)!;
    let client: WorkloadApi;
    let hash: string | undefined;
    let changedAt: number | undefined;
    try {
      client = await this.clients.client(target.cluster);
      if (withConfigMap) {
        const cm = await client.getConfigMap(target.namespace, target.configMapName);
        hash = cm?.annotations[CONTENT_HASH_ANNOTATION];
        const ours = cm?.managedFields.find((f) => f.manager === CONFIGMAP_FIELD_MANAGER && f.operation === 'Apply');
        changedAt = ours?.time ? Date.parse(ours.time) : undefined;
      }
    } catch (e) {
      return (target.workloads ?? []).map((selector) => ({ target, wave, selector, error: e }));
    }
    const units: Unit[] = [];
    const seen = new Set<string>();
    for (const selector of target.workloads ?? []) {
      try {
        const found = selector.name !== undefined
          ? [await client.getWorkload(selector.kind, target.namespace, selector.name)]
          : await client.listWorkloads(selector.kind, target.namespace, selector.labelSelector!);
        if (found[0] === undefined && selector.name !== undefined) {
          units.push({ target, wave, selector, error: new KubernetesApiError(`GET ${selector.kind} ${target.namespace}/${selector.name}`, { statusCode: 404, reason: 'NotFound' }) });
        }
        for (const workload of found) {
          if (!workload || seen.has(`${workload.kind}/${workload.name}`)) continue;
          seen.add(`${workload.kind}/${workload.name}`);
          units.push({ target, wave, workload, hash, changedAt, selector });
        }
      } catch (e) {
        units.push({ target, wave, selector, error: e });
      }
    }
    return units;
  }

  /**
   * Server-side applies the rollout annotations of one workload under the field manager of its
   * ConfigMap, keeping the pod template annotation it owns (changing it only when `template`).
   */
  private async apply(u: Unit, fields: { hash: string; state: string; started?: string; template?: boolean }): Promise<void> {
    const w = u.workload!;
    const client = await this.clients.client(u.target.cluster);
    const hashKey = key(ROLLOUT_ANNOTATION.HASH, u.target);
    const template = fields.template ? fields.hash : w.templateAnnotations[hashKey];
    await client.applyWorkloadAnnotations({
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
      annotations: {
        [hashKey]: fields.hash,
        [key(ROLLOUT_ANNOTATION.STATE, u.target)]: fields.state,
        ...(fields.started ? { [key(ROLLOUT_ANNOTATION.STARTED, u.target)]: fields.started } : {}),
      },
      ...(template !== undefined ? { templateAnnotations: { [hashKey]: template } } : {}),
      fieldManager: rolloutFieldManager(u.target.configMapName),
      // Over the version this pass read: of two invocations at once, one records each step.
      resourceVersion: w.resourceVersion,
    });
  }

  private count(u: Unit, metric: string): void {
    addSplitMetric(metric, MetricUnit.Count, 1, CLUSTER_DIMENSION, `${u.target.cluster.region}/${u.target.cluster.name}`);
  }

  private identity(u: Unit) {
    return {
      cluster: u.target.cluster.name,
      region: u.target.cluster.region,
      namespace: u.target.namespace,
      configMapName: u.target.configMapName,
      kind: u.workload?.kind ?? u.selector!.kind,
      name: u.workload?.name ?? u.selector!.name ?? u.selector!.labelSelector!,
      wave: u.wave,
    };
  }

  private result(u: Unit, outcome: WorkloadOutcome): WorkloadResult {
    return { ...this.identity(u), outcome };
  }

  private errorResult(u: Unit): WorkloadResult {
    const e = u.error;
    const details = e instanceof KubernetesApiError
      ? { errorName: e.reason, ...(e.statusCode ? { httpStatus: e.statusCode } : {}), errorMessage: e.message }
      : { errorName: errorFields(e).errorName };
    logger.error('workload rollout failed', { ...this.identity(u), ...details });
    return { ...this.identity(u), outcome: 'error', ...details };
  }
}

/** A 409 of the version precondition (not of another field manager): another invocation wrote first. */
function isLostRace(e: unknown): boolean {
  return e instanceof KubernetesApiError && e.statusCode === 409 && !(e.conflictingManagers?.length);
}

/** The field manager of the rollout annotations for one ConfigMap. */
export function rolloutFieldManager(configMapName: string): string {
  return `${ROLLOUT_FIELD_MANAGER_PREFIX}${configMapName}`;
}

/** `<prefix>/<configMapName>`: an annotation of the rollout for one ConfigMap. */
function key(prefix: string, target: SyncTargetConfig): string {
  return `${prefix}/${target.configMapName}`;
}

/**
 * Whether a workload's controller finished rolling out its current template: it observed the
 * current generation, and every wanted pod is updated and available with no old pod left (for a
 * StatefulSet also `currentRevision` equals `updateRevision`).
 */
export function isComplete(w: WorkloadObject, hash: string, target: SyncTargetConfig): boolean {
  if (w.templateAnnotations[key(ROLLOUT_ANNOTATION.HASH, target)] !== hash) return false;
  if (w.observedGeneration < w.generation) return false;
  if (w.updated < w.desired || w.available < w.desired || w.total > w.desired) return false;
  if (w.kind === 'StatefulSet' && w.currentRevision !== w.updateRevision) return false;
  return true;
}

/**
 * The wave of each target: 0 for clusters in the primary region; then, with `primary-first`, 1 for
 * every other; with `region-by-region`, one wave per region in the order the targets name them.
 */
export function assignWaves(targets: readonly SyncTargetConfig[], primaryRegion: string, mode: RolloutConfig['waves']): Map<SyncTargetConfig, number> {
  const regions: string[] = [];
  for (const t of targets) {
    if (t.cluster.region !== primaryRegion && !regions.includes(t.cluster.region)) regions.push(t.cluster.region);
  }
  return new Map(targets.map((t) => [t, t.cluster.region === primaryRegion ? 0 : (mode === 'region-by-region' ? regions.indexOf(t.cluster.region) + 1 : 1)]));
}

function countOutcomes(workloads: readonly WorkloadResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const w of workloads) counts[w.outcome] = (counts[w.outcome] ?? 0) + 1;
  return counts;
}

async function forEachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(WORKLOAD_CONCURRENCY, items.length) }, worker));
}
