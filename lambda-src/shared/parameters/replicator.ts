import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ListTagsForResourceCommand,
  Parameter,
  ParameterHistory,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type {
  ConflictPolicyName, ParameterOverrideConfig, ParameterReconcileCursor, ParameterRegionPosition, ParameterReplicaTargetConfig,
  ParameterSelectionConfig, ParameterTierName,
} from './contract';
import {
  ADVANCED_TIER_MAX_BYTES, COPIED_DATA_TYPE, DEFAULT_SECURE_STRING_KEY, ParameterProvenanceTag, ParameterReplicatorMetric,
  PROVENANCE_TAG_PREFIX, REPLICA_REGION_DIMENSION, STANDARD_TIER_MAX_BYTES,
} from './contract';
import { ClientCache } from '../clients';
import { chunk } from '../concurrency';
import { KeyedHasher } from '../hmac';
import { addSplitMetric, errorFields, logger, MetricUnit, MetricUnitType } from '../observability';
import type { Pacer } from '../pacing';
import { AdaptiveRateLimiter, Clock, PacedRetryStrategy, pacedWrite, REAL_CLOCK } from './pacing';
import { ParameterSelection } from './selection';

/** One replica region (and account). */
type Target = ParameterReplicaTargetConfig;

/** GetParametersByPath page size: the API maximum. */
export const PAGE_SIZE = 10;
/** GetParameters takes at most 10 names. */
const GET_PARAMETERS_SIZE = 10;
/** GetParameterHistory page size: the API maximum. */
const HISTORY_PAGE_SIZE = 50;
/** Rounds of (write, check the primary again) for one parameter before the run gives up on it. */
const MAX_ROUNDS = 4;

/** Settings of one parameter replicator deployment (from its contract). */
export interface ParameterReplicatorSettings {
  readonly primaryRegion: string;
  readonly targets: readonly Target[];
  readonly selection: ParameterSelectionConfig;
  readonly overrides: readonly ParameterOverrideConfig[];
  readonly conflictPolicy: ConflictPolicyName;
  readonly replicateTags: boolean;
  readonly propagateDeletions: boolean;
  /** Paced writes per second per replica region (and account). */
  readonly writesPerSecond: number;
  /** Value of the provenance tag `cross-region-config:deployment`, when set. */
  readonly deploymentId?: string;
}

/** The primary's current state of one parameter, as read. Held in memory only. */
export interface PrimaryParameter {
  readonly name: string;
  readonly value: string;
  readonly type: string;
  readonly dataType: string;
  readonly version: number;
  readonly lastModified?: Date;
}

/** What a replica region holds for one name, as listed or read. */
export interface ReplicaParameter {
  readonly value: string;
  readonly type: string;
  readonly dataType: string;
  readonly version: number;
}

/** The primary's metadata and history, read only for a parameter that needs a write or a check. */
interface PrimaryDetails {
  readonly description?: string;
  readonly allowedPattern?: string;
  readonly tier: ParameterTierName;
  readonly tags: Record<string, string>;
  /** Every value the primary held in its kept history (memory only): a replica holding one is the replicator's copy. */
  readonly history: ReadonlySet<string>;
  /** The kept history by version number (memory only). */
  readonly versions: ReadonlyMap<number, string>;
}

/** What happened to one parameter in one replica region. */
export type ParameterOutcome =
  | 'created' | 'updated' | 'metadata-updated' | 'in-sync' | 'conflict-overwritten' | 'conflict-skipped' | 'stale-skipped'
  | 'deleted' | 'deletion-not-propagated' | 'absent' | 'failed'
  | 'would-create' | 'would-update' | 'would-delete';

/** The value-free result of one (parameter, replica region) pair. */
export interface ParameterResult {
  readonly parameterName: string;
  readonly region: string;
  readonly account?: string;
  readonly outcome: ParameterOutcome;
  readonly errorName?: string;
  /** True for a failure no retry can mend (the configuration or the value must change). */
  readonly permanent?: boolean;
  readonly latencyMs?: number;
}

/** Where a reconciliation stopped early: each replica region with work left, and the last name worked there. */
export type ReconcileCursor = ParameterReconcileCursor;
/** Where one replica region resumes. */
export type RegionPosition = ParameterRegionPosition;

/** Options of `reconcile()`. */
export interface ReconcileOptions {
  /** Report what would be written; write nothing and emit no metrics. */
  readonly dryRun?: boolean;
  /**
   * Asked in each replica region before each parameter; `false` stops the region there (e.g. near
   * the function's deadline) and the result carries the cursor to resume from. Each region works
   * at least one pair regardless, so a chain of runs always moves forward. @default - never stops
   */
  readonly shouldContinue?: () => boolean;
  /** Resume a reconciliation that stopped early: only the regions it lists, each after its `after`. */
  readonly cursor?: ReconcileCursor;
}

/** The result of a reconciliation. */
export interface ReconcileResult {
  readonly results: ParameterResult[];
  /** Regions whose replicas could not be listed. */
  readonly unreachable: ReadonlySet<string>;
  /** Set when the run stopped early (`shouldContinue` answered false): where to resume. */
  readonly cursor?: ReconcileCursor;
}

/** A failure no retry can mend; its message names the parameter and the rule, never the value. */
export class PermanentReplicationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Bytes of a parameter value as Parameter Store counts them (UTF-8). */
export function valueBytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Longest value a tier allows. Intelligent-Tiering picks Advanced for a value that needs it. */
export function tierLimit(tier: ParameterTierName): number {
  return tier === 'Standard' ? STANDARD_TIER_MAX_BYTES : ADVANCED_TIER_MAX_BYTES;
}

/**
 * The parameter replication engine: copies Parameter Store parameters from the primary region to
 * the replica regions, for one changed parameter (`syncOne`) or everything selected (`reconcile`).
 * One instance per execution environment.
 *
 * Invariant: when a run reports a (parameter, region) as written or in sync, the replica held the
 * primary's current value (or the declared override for that region) when the run last checked
 * the primary; a run that finds the primary changed after its write writes again.
 */
export class ParameterReplicator {
  readonly selection: ParameterSelection;
  private readonly primaryClients: ClientCache;
  private readonly targetClients = new Map<string, ClientCache>();
  private readonly limiters = new Map<string, AdaptiveRateLimiter>();
  private readonly overrides = new Map<string, string>();
  private emitMetrics = true;
  /** Metadata, tags and history of each primary read, read once (memory only). */
  private readonly detailCache = new WeakMap<PrimaryParameter, Promise<PrimaryDetails>>();
  private readonly clock: Clock;
  private readonly now: () => Date;
  /** Paces the reads every run shares a quota for (GetParametersByPath) per region; see `pacing.ts` in lambda-src/shared. */
  private readonly pacer?: Pacer;

  constructor(
    private readonly settings: ParameterReplicatorSettings,
    private readonly hasher: KeyedHasher,
    options: { clock?: Clock; now?: () => Date; pacer?: Pacer } = {},
  ) {
    this.selection = new ParameterSelection(settings.selection);
    this.clock = options.clock ?? REAL_CLOCK;
    this.now = options.now ?? (() => new Date(this.clock.now()));
    this.pacer = options.pacer;
    this.primaryClients = new ClientCache(settings.primaryRegion, undefined, this.pacer);
    for (const o of settings.overrides) this.overrides.set(`${o.name}\u0000${o.region}`, o.value);
  }

  /** The limiter of a target's account and region (shared by every write there). */
  limiter(target: Target): AdaptiveRateLimiter {
    const key = `${target.region}|${target.roleArn ?? ''}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new AdaptiveRateLimiter(this.settings.writesPerSecond, this.clock);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /** Throttling answers seen in a region since the last call, for the metric. */
  takeThrottles(target: Target): number {
    const limiter = this.limiter(target);
    const n = limiter.throttles;
    limiter.throttles = 0;
    return n;
  }

  primaryClient(): SSMClient {
    return this.primaryClients.get(SSMClient, { region: this.settings.primaryRegion });
  }

  targetClient(target: Target): SSMClient {
    const key = `${target.region}|${target.roleArn ?? ''}`;
    let cache = this.targetClients.get(key);
    if (!cache) {
      const limiter = this.limiter(target);
      cache = new ClientCache(this.settings.primaryRegion, new PacedRetryStrategy(() => limiter.throttled()), this.pacer);
      this.targetClients.set(key, cache);
    }
    return cache.get(SSMClient, { region: target.region, ...(target.roleArn ? { roleArn: target.roleArn } : {}) });
  }

  /** The declared value of `name` in `region`, if any. */
  overrideFor(name: string, region: string): string | undefined {
    return this.overrides.get(`${name}\u0000${region}`);
  }

  /** HMAC of what a replica holds, for the provenance tag (never a plain hash). */
  contentHmac(name: string, region: string, value: string): string {
    return this.hasher.digestHex('parameter-content', name, region, value);
  }

  /**
   * Replicates one parameter (a change event) to every replica region, reading the primary's
   * current state: the event only names the parameter, so duplicate, late and out-of-order events
   * all converge on the primary's current value. After writing, the primary is read again; if it
   * changed meanwhile, the round is repeated.
   */
  async syncOne(name: string, options: { dryRun?: boolean } = {}): Promise<ParameterResult[]> {
    this.emitMetrics = !options.dryRun;
    try {
      if (!this.selection.selectsName(name)) return [];
      let results: ParameterResult[] = [];
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const primary = await this.readPrimary(name);
        if (primary && this.selection.needsTags && !this.selection.matchesTags((await this.details(primary)).tags)) return [];
        results = [];
        for (const target of this.settings.targets) {
          results.push(await this.settle(name, target, () => this.syncTarget(name, primary, target, options.dryRun ?? false)));
        }
        const wrote = results.some((r) => isWrite(r.outcome));
        if (options.dryRun || !wrote) return results;
        const now = await this.readPrimaryVersion(name);
        if (now === (primary?.version)) return results;
        logger.info('primary changed while it was replicated; replicating again', { parameterName: name, round });
      }
      return results.map((r) => (isWrite(r.outcome) ? this.failureResult(name, this.targetOf(r.region), new Error('the primary kept changing'), 'PrimaryKeptChanging') : r));
    } finally {
      this.emitMetrics = true;
    }
  }

  /**
   * Full reconciliation: lists the selection in the primary (GetParametersByPath, 10 a page,
   * recursive, decrypted) once, then works the replica regions concurrently, each listing its
   * replicas and writing only what differs, paced by its own limiter: in steady state ⌈N/10⌉ reads
   * in the primary and ⌈N/10⌉ per region, and no write. Compared from the listing: value, type and
   * data type (the listing carries no description, tier, key or tags; those are synced whenever a
   * change event arrives or a value is written). A replica that differs is checked for a change
   * made in its region (provenance) before it is written.
   *
   * Per region: the pairs started are a prefix of the region's names in code-point order, and when
   * the region stops early its position is the last name worked. A region that cannot be listed
   * fails alone (one failure per remaining name); the others carry on. Results come in target
   * order, each region's in name order.
   */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileResult> {
    const dryRun = options.dryRun ?? false;
    const asked = options.shouldContinue ?? (() => true);
    this.emitMetrics = !dryRun;
    try {
      const primaries = await this.listSelectedPrimaries();
      const names = [...primaries.keys()].sort();
      const positions: RegionPosition[] = options.cursor
        ? [...options.cursor.regions].sort((a, b) => a.targetIndex - b.targetIndex)
        : this.settings.targets.map((t, targetIndex) => ({ targetIndex, region: t.region }));
      for (const p of positions) {
        if (this.settings.targets[p.targetIndex]?.region !== p.region) {
          throw new Error(`cursor names region ${p.region} at targetIndex ${p.targetIndex}, which the replica targets do not hold there`);
        }
      }
      const unreachable = new Set<string>();
      const regions = await Promise.all(positions.map((p) => this.reconcileRegion(p, primaries, names, dryRun, asked, unreachable)));
      const left = regions.flatMap((r) => (r.next ? [r.next] : []));
      return { results: regions.flatMap((r) => r.results), unreachable, ...(left.length > 0 ? { cursor: { regions: left } } : {}) };
    } finally {
      this.emitMetrics = true;
    }
  }

  /** One replica region of a reconciliation, from `position`; `next` is set when it stopped early. */
  private async reconcileRegion(
    position: RegionPosition, primaries: Map<string, PrimaryParameter>, names: readonly string[], dryRun: boolean,
    asked: () => boolean, unreachable: Set<string>,
  ): Promise<{ results: ParameterResult[]; next?: RegionPosition }> {
    const target = this.settings.targets[position.targetIndex];
    const after = position.after;
    const results: ParameterResult[] = [];
    // A region resumed works at least one pair, so that a chain of runs always moves forward in every region.
    const shouldContinue = () => asked() || results.length === 0;
    let replicas: Map<string, ReplicaParameter>;
    try {
      replicas = await this.listReplicas(target);
    } catch (e) {
      // The region cannot be listed: one failure per parameter, so every one is counted.
      unreachable.add(target.region);
      logger.error('replica region could not be listed', { region: target.region, ...errorFields(e) });
      for (const name of names) if (after === undefined || name > after) results.push(this.failureResult(name, target, e));
      return { results };
    }
    // Live primaries and replicas whose primary is gone, in one name order, so that `after`
    // names where a run stopped in either.
    const orphans = [...replicas.keys()].filter((name) => !primaries.has(name) && this.selection.selectsName(name));
    const ordered = orphans.length === 0 ? names : [...new Set([...names, ...orphans])].sort();
    const written: string[] = [];
    let lastDone = after;
    for (const name of ordered) {
      if (after !== undefined && name <= after) continue;
      if (!shouldContinue()) {
        // What this run wrote in the region is checked against the primary before it stops.
        if (!dryRun && written.length > 0) await this.recheck(written, primaries, target, results);
        this.emitThrottles(target);
        return {
          results,
          next: { targetIndex: position.targetIndex, region: target.region, ...(lastDone !== undefined ? { after: lastDone } : {}) },
        };
      }
      const primary = primaries.get(name);
      const result = primary
        ? await this.settle(name, target, () => this.apply(primary, target, replicas.get(name) ?? null, dryRun))
        : await this.settle(name, target, () => this.removeReplica(name, target, replicas.get(name)!, dryRun));
      if (primary && isWrite(result.outcome)) written.push(name);
      results.push(result);
      lastDone = name;
    }
    if (!dryRun && written.length > 0) await this.recheck(written, primaries, target, results);
    this.emitThrottles(target);
    return { results };
  }

  /**
   * Reads the primaries of the parameters just written again (GetParameters, 10 a call): any that
   * changed since the listing is replicated once more, so a run never leaves its own stale copy.
   */
  private async recheck(written: string[], primaries: Map<string, PrimaryParameter>, target: Target, results: ParameterResult[]): Promise<void> {
    for (const names of chunk(written, GET_PARAMETERS_SIZE)) {
      const answer = await this.primaryClient().send(new GetParametersCommand({ Names: names }));
      const versions = new Map((answer.Parameters ?? []).map((p) => [p.Name!, p.Version!]));
      for (const name of names) {
        if (versions.get(name) === primaries.get(name)!.version) continue;
        logger.info('primary changed while it was replicated; replicating again', { parameterName: name, region: target.region });
        const index = results.findIndex((r) => r.parameterName === name && r.region === target.region);
        const again = await this.settle(name, target, async () => this.syncTarget(name, await this.readPrimary(name), target, false));
        if (index >= 0) results[index] = again;
      }
    }
  }

  /** One (parameter, region) pair of an event: reads the replica, then applies. */
  private async syncTarget(name: string, primary: PrimaryParameter | undefined, target: Target, dryRun: boolean): Promise<ParameterResult> {
    const replica = await this.readReplica(name, target);
    if (!primary) {
      if (!replica) return this.result(name, target, 'absent');
      return this.removeReplica(name, target, replica, dryRun);
    }
    return this.apply(primary, target, replica ?? null, dryRun, true);
  }

  /**
   * Decides and performs what one region needs for one live primary parameter. `replica` is what
   * the region holds (`null`: nothing). With `full`, metadata and tags are compared too (events);
   * otherwise value, type and data type (the reconciliation's listing).
   */
  async apply(primary: PrimaryParameter, target: Target, replica: ReplicaParameter | null, dryRun: boolean, full = false): Promise<ParameterResult> {
    const name = primary.name;
    const expected = this.expectedValue(primary, target);
    const valueAgrees = replica !== null && replica.value === expected && replica.type === primary.type && replica.dataType === primary.dataType;
    if (valueAgrees && !full) return this.result(name, target, 'in-sync');

    const details = await this.details(primary);
    const client = this.targetClient(target);
    const tier = target.tier ?? details.tier;
    if (valueBytes(expected) > tierLimit(tier)) {
      throw new PermanentReplicationError('ValueTooLargeForTier',
        `the value of ${name} is ${valueBytes(expected)} bytes, more than the ${tier} tier of the replica in ${target.region} allows (${tierLimit(tier)} bytes)`);
    }
    if (details.allowedPattern !== undefined && !matchesPattern(details.allowedPattern, expected)) {
      throw new PermanentReplicationError('ValueRefusedByAllowedPattern',
        `the value for ${name} in ${target.region} does not match the parameter's allowed pattern`);
    }
    const desiredTags = this.desiredTags(primary, details, target, expected);

    if (replica === null) {
      if (dryRun) return this.result(name, target, 'would-create');
      try {
        await pacedWrite(this.limiter(target), () => client.send(new PutParameterCommand({
          ...this.putFields(primary, details, target, expected, tier),
          Tags: Object.entries(desiredTags).map(([Key, Value]) => ({ Key, Value })),
        })), this.clock);
        return this.written(this.result(name, target, 'created', this.latency(primary)));
      } catch (e) {
        if ((e as Error).name !== 'ParameterAlreadyExists') throw e;
        // Created meanwhile (another run, or someone in the region): look at it and carry on.
        replica = (await this.readReplica(name, target)) ?? null;
        if (replica === null) throw e;
      }
    }

    const tags = await this.replicaTags(name, target);
    const valueAgreesNow = replica.value === expected && replica.type === primary.type && replica.dataType === primary.dataType;
    let localChange = false;
    if (!valueAgreesNow) {
      const hmacMatches = tags[ParameterProvenanceTag.CONTENT_HMAC] === this.contentHmac(name, target.region, replica.value);
      const copiedVersion = Number(tags[ParameterProvenanceTag.SOURCE_VERSION]);
      if (hmacMatches && copiedVersion > primary.version && primary.dataType === COPIED_DATA_TYPE
        && this.overrideFor(name, target.region) === undefined && details.versions.get(copiedVersion) === replica.value) {
        // Another run read a newer version of this same primary (its history holds that version
        // with that value; a primary deleted and created again starts its versions anew) and
        // copied it: never go back.
        return this.result(name, target, 'stale-skipped');
      }
      const ours = hmacMatches || replica.value === primary.value || details.history.has(replica.value)
        || (this.overrideFor(name, target.region) !== undefined && replica.value === this.overrideFor(name, target.region));
      localChange = !ours;
      if (localChange && this.settings.conflictPolicy === 'SKIP_AND_ALARM') {
        return this.conflict(this.result(name, target, 'conflict-skipped'), dryRun);
      }
    }
    const metadataAgrees = valueAgreesNow && (!full || await this.metadataAgrees(name, target, details, primary, tier));
    const { toTag, toUntag } = this.tagChanges(tags, desiredTags);
    if (metadataAgrees && toTag.length === 0 && toUntag.length === 0) return this.result(name, target, 'in-sync');
    if (dryRun) return this.result(name, target, 'would-update');

    let outcome: ParameterOutcome = 'metadata-updated';
    if (!metadataAgrees) {
      await this.overwrite(primary, details, target, expected, tier);
      outcome = valueAgreesNow ? 'metadata-updated' : 'updated';
    }
    await this.writeTags(name, target, desiredTags, toTag, toUntag, !metadataAgrees);
    const latency = outcome === 'updated' ? this.latency(primary) : undefined;
    if (localChange) {
      this.conflict(this.result(name, target, 'conflict-overwritten'), dryRun);
      return this.written(this.result(name, target, 'conflict-overwritten', latency));
    }
    return this.written(this.result(name, target, outcome, latency));
  }

  /** PutParameter with Overwrite; an Advanced replica is never asked to become Standard. */
  private async overwrite(primary: PrimaryParameter, details: PrimaryDetails, target: Target, value: string, tier: ParameterTierName): Promise<void> {
    const client = this.targetClient(target);
    const put = (t: ParameterTierName) => pacedWrite(this.limiter(target), () => client.send(new PutParameterCommand({
      ...this.putFields(primary, details, target, value, t), Overwrite: true,
    })), this.clock);
    try {
      await put(tier);
    } catch (e) {
      // Parameter Store refuses to turn an Advanced parameter back into a Standard one.
      if (tier === 'Standard' && (e as Error).name === 'ValidationException' && /advanced/i.test((e as Error).message ?? '')) {
        await put('Advanced');
        return;
      }
      throw e;
    }
  }

  private putFields(primary: PrimaryParameter, details: PrimaryDetails, target: Target, value: string, tier: ParameterTierName) {
    return {
      Name: primary.name,
      Value: value,
      Type: primary.type as 'String' | 'StringList' | 'SecureString',
      Description: details.description ?? '',
      ...(details.allowedPattern !== undefined ? { AllowedPattern: details.allowedPattern } : {}),
      ...(primary.type === 'SecureString' ? { KeyId: target.kmsKeyId ?? DEFAULT_SECURE_STRING_KEY } : {}),
      DataType: primary.dataType,
      Tier: tier,
    };
  }

  /**
   * Metadata of the replica's current version (GetParameterHistory, last page) against the
   * primary's: description, allowed pattern, KMS key (SecureString) and tier (never downgraded).
   */
  private async metadataAgrees(
    name: string, target: Target, details: PrimaryDetails, primary: PrimaryParameter, tier: ParameterTierName,
  ): Promise<boolean> {
    const current = (await this.history(this.targetClient(target), name, false)).at(-1);
    if (!current) return false;
    const key = target.kmsKeyId ?? DEFAULT_SECURE_STRING_KEY;
    return (current.Description ?? '') === (details.description ?? '')
      && (current.AllowedPattern ?? undefined) === details.allowedPattern
      && (primary.type !== 'SecureString' || sameKey(current.KeyId, key))
      && (current.Tier === tier || (current.Tier === 'Advanced' && tier !== 'Advanced') || tier === 'Intelligent-Tiering');
  }

  private async writeTags(
    name: string, target: Target, desired: Record<string, string>, toTag: string[], toUntag: string[], valueWritten: boolean,
  ): Promise<void> {
    const client = this.targetClient(target);
    // After a value write the provenance tags are written even when they read the same: the
    // HMAC and source version describe the write just made.
    const keys = valueWritten ? [...new Set([...toTag, ...Object.keys(desired).filter((k) => k.startsWith(PROVENANCE_TAG_PREFIX))])] : toTag;
    if (keys.length > 0) {
      await pacedWrite(this.limiter(target), () => client.send(new AddTagsToResourceCommand({
        ResourceType: 'Parameter', ResourceId: name, Tags: keys.map((Key) => ({ Key, Value: desired[Key] })),
      })), this.clock);
    }
    if (toUntag.length > 0) {
      await pacedWrite(this.limiter(target), () => client.send(new RemoveTagsFromResourceCommand({
        ResourceType: 'Parameter', ResourceId: name, TagKeys: toUntag,
      })), this.clock);
    }
  }

  /**
   * A replica whose primary is gone: deleted when deletions are propagated and the replica is
   * this replicator's unchanged copy; a replica changed in its region is a conflict (deleted
   * anyway under PRIMARY_WINS); a replica the replicator did not make is left alone.
   */
  private async removeReplica(name: string, target: Target, replica: ReplicaParameter, dryRun: boolean): Promise<ParameterResult> {
    if (!this.settings.propagateDeletions) return this.result(name, target, 'deletion-not-propagated');
    const tags = await this.replicaTags(name, target);
    if (tags[ParameterProvenanceTag.SOURCE_REGION] !== this.settings.primaryRegion) return this.result(name, target, 'deletion-not-propagated');
    const changed = tags[ParameterProvenanceTag.CONTENT_HMAC] !== this.contentHmac(name, target.region, replica.value);
    if (changed && this.settings.conflictPolicy === 'SKIP_AND_ALARM') return this.conflict(this.result(name, target, 'conflict-skipped'), dryRun);
    if (dryRun) return this.result(name, target, 'would-delete');
    // The primary may have come back since it was read: check just before deleting.
    if (await this.readPrimaryVersion(name) !== undefined) {
      return this.syncTarget(name, await this.readPrimary(name), target, false);
    }
    try {
      await pacedWrite(this.limiter(target), () => this.targetClient(target).send(new DeleteParameterCommand({ Name: name })), this.clock);
    } catch (e) {
      if ((e as Error).name !== 'ParameterNotFound') throw e;
    }
    if (changed) this.conflict(this.result(name, target, 'deleted'), dryRun);
    logger.info('replica deleted', { parameterName: name, region: target.region });
    return this.result(name, target, 'deleted');
  }

  private expectedValue(primary: PrimaryParameter, target: Target): string {
    const override = this.overrideFor(primary.name, target.region);
    if (override !== undefined) return override;
    if (primary.dataType !== COPIED_DATA_TYPE) {
      throw new PermanentReplicationError('RegionalValueWithoutOverride',
        `${primary.name} has data type ${primary.dataType}, whose values are regional (an AMI id exists in one region only); declare its value for ${target.region} with a ParameterOverride`);
    }
    return primary.value;
  }

  private desiredTags(primary: PrimaryParameter, details: PrimaryDetails, target: Target, value: string): Record<string, string> {
    const tags: Record<string, string> = {};
    if (this.settings.replicateTags) {
      for (const [k, v] of Object.entries(details.tags)) if (!k.startsWith('aws:') && !k.startsWith(PROVENANCE_TAG_PREFIX)) tags[k] = v;
    }
    tags[ParameterProvenanceTag.SOURCE_REGION] = this.settings.primaryRegion;
    tags[ParameterProvenanceTag.SOURCE_VERSION] = String(primary.version);
    tags[ParameterProvenanceTag.CONTENT_HMAC] = this.contentHmac(primary.name, target.region, value);
    tags[ParameterProvenanceTag.SYNCED_AT] = this.now().toISOString();
    if (this.settings.deploymentId) tags[ParameterProvenanceTag.DEPLOYMENT] = this.settings.deploymentId;
    return tags;
  }

  /** Tags to add or change, and tags to remove (mirrored tags gone from the primary). `synced-at` alone never causes a write. */
  private tagChanges(current: Record<string, string>, desired: Record<string, string>): { toTag: string[]; toUntag: string[] } {
    const toTag = Object.keys(desired).filter((k) => current[k] !== desired[k] && k !== ParameterProvenanceTag.SYNCED_AT
      && k !== ParameterProvenanceTag.SOURCE_VERSION);
    const toUntag = Object.keys(current).filter((k) => !(k in desired) && !k.startsWith('aws:')
      && (k.startsWith(PROVENANCE_TAG_PREFIX) || this.settings.replicateTags));
    return { toTag, toUntag };
  }

  /** Reads the primary (GetParameter, decrypted); `undefined` when it does not exist. */
  async readPrimary(name: string): Promise<PrimaryParameter | undefined> {
    try {
      const answer = await this.primaryClient().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return toPrimary(answer.Parameter!);
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  private async readPrimaryVersion(name: string): Promise<number | undefined> {
    try {
      return (await this.primaryClient().send(new GetParameterCommand({ Name: name }))).Parameter?.Version;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  private async readReplica(name: string, target: Target): Promise<ReplicaParameter | undefined> {
    try {
      const p = (await this.targetClient(target).send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!;
      return toReplica(p);
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  private async replicaTags(name: string, target: Target): Promise<Record<string, string>> {
    const answer = await this.targetClient(target).send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }));
    return tagMap(answer.TagList);
  }

  /** Metadata, tags and history of a primary, read once per primary read. */
  private details(primary: PrimaryParameter): Promise<PrimaryDetails> {
    let pending = this.detailCache.get(primary);
    if (!pending) {
      pending = (async () => {
        const client = this.primaryClient();
        const [history, tags] = await Promise.all([
          this.history(client, primary.name, true),
          client.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: primary.name })),
        ]);
        const current = history.find((h) => h.Version === primary.version) ?? history.at(-1);
        return {
          description: current?.Description || undefined,
          allowedPattern: current?.AllowedPattern || undefined,
          tier: (current?.Tier as ParameterTierName | undefined) ?? 'Standard',
          tags: tagMap(tags.TagList),
          history: new Set(history.map((h) => h.Value ?? '')),
          versions: new Map(history.map((h) => [h.Version ?? 0, h.Value ?? ''])),
        };
      })();
      pending.catch(() => this.detailCache.delete(primary));
      this.detailCache.set(primary, pending);
    }
    return pending;
  }

  /** Every kept version of a parameter, oldest first (at most 100: two pages). */
  private async history(client: SSMClient, name: string, withDecryption: boolean): Promise<ParameterHistory[]> {
    const out: ParameterHistory[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new GetParameterHistoryCommand({
        Name: name, WithDecryption: withDecryption, MaxResults: HISTORY_PAGE_SIZE, NextToken: token,
      }));
      out.push(...(page.Parameters ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  /** The selected parameters of the primary, decrypted: ⌈N/10⌉ calls per root path (plus tags when the selection needs them). */
  private async listSelectedPrimaries(): Promise<Map<string, PrimaryParameter>> {
    const found = new Map<string, PrimaryParameter>();
    for (const p of await this.listAll(this.primaryClient())) {
      if (this.selection.selectsName(p.Name!)) found.set(p.Name!, toPrimary(p));
    }
    if (this.selection.needsTags) {
      for (const [name, primary] of [...found]) {
        if (!this.selection.matchesTags((await this.details(primary)).tags)) found.delete(name);
      }
    }
    return found;
  }

  private async listReplicas(target: Target): Promise<Map<string, ReplicaParameter>> {
    const found = new Map<string, ReplicaParameter>();
    for (const p of await this.listAll(this.targetClient(target))) found.set(p.Name!, toReplica(p));
    return found;
  }

  private async listAll(client: SSMClient): Promise<Parameter[]> {
    const out: Parameter[] = [];
    for (const root of this.selection.roots) {
      let token: string | undefined;
      do {
        const page = await client.send(new GetParametersByPathCommand({
          Path: root, Recursive: true, WithDecryption: true, MaxResults: PAGE_SIZE, NextToken: token,
        }));
        out.push(...(page.Parameters ?? []));
        token = page.NextToken;
      } while (token);
    }
    return out;
  }

  /** Runs one pair's work; an error becomes a counted, value-free failure. */
  private async settle(name: string, target: Target, work: () => Promise<ParameterResult>): Promise<ParameterResult> {
    try {
      return await work();
    } catch (e) {
      return this.failureResult(name, target, e);
    }
  }

  private targetOf(region: string): Target {
    return this.settings.targets.find((t) => t.region === region) ?? { region };
  }

  private result(name: string, target: Target, outcome: ParameterOutcome, latencyMs?: number): ParameterResult {
    return {
      parameterName: name,
      region: target.region,
      ...(target.roleArn ? { account: accountOf(target.roleArn) } : {}),
      outcome,
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    };
  }

  private failureResult(name: string, target: Target, error: unknown, errorName?: string): ParameterResult {
    this.metric(ParameterReplicatorMetric.REPLICATION_FAILURES, MetricUnit.Count, 1, target);
    const fields = errorFields(error);
    const permanent = error instanceof PermanentReplicationError;
    // Our own messages name the parameter and the rule, never the value; SDK messages are not logged.
    logger.error('replication failed', {
      parameterName: name,
      region: target.region,
      ...fields,
      ...(errorName ? { errorName } : {}),
      ...(permanent ? { reason: (error as Error).message, permanent } : {}),
    });
    return { ...this.result(name, target, 'failed'), errorName: errorName ?? fields.errorName, ...(permanent ? { permanent } : {}) };
  }

  private written(result: ParameterResult): ParameterResult {
    const target = this.targetOf(result.region);
    this.metric(ParameterReplicatorMetric.REPLICATED_PARAMETERS, MetricUnit.Count, 1, target);
    if (result.latencyMs !== undefined) this.metric(ParameterReplicatorMetric.REPLICATION_LATENCY, MetricUnit.Milliseconds, result.latencyMs, target);
    logger.info('replica written', {
      parameterName: result.parameterName, region: result.region, ...(result.account ? { account: result.account } : {}), outcome: result.outcome,
    });
    return result;
  }

  private conflict(result: ParameterResult, dryRun: boolean): ParameterResult {
    if (!dryRun) this.metric(ParameterReplicatorMetric.CONFLICTS, MetricUnit.Count, 1, this.targetOf(result.region));
    logger.warn('replica was changed outside the replicator', { parameterName: result.parameterName, region: result.region, resolution: result.outcome });
    return result;
  }

  /** Emits the throttling answers seen in a region since the last emission. */
  emitThrottles(target: Target): void {
    const n = this.takeThrottles(target);
    if (n > 0) this.metric(ParameterReplicatorMetric.THROTTLED_REQUESTS, MetricUnit.Count, n, target);
  }

  private metric(name: string, unit: MetricUnitType, value: number, target: Target): void {
    if (this.emitMetrics) addSplitMetric(name, unit, value, REPLICA_REGION_DIMENSION, target.region);
  }

  private latency(primary: PrimaryParameter): number | undefined {
    return primary.lastModified ? Math.max(0, this.now().getTime() - primary.lastModified.getTime()) : undefined;
  }
}

/** Outcomes that wrote a replica's value or metadata. */
export function isWrite(outcome: ParameterOutcome): boolean {
  return outcome === 'created' || outcome === 'updated' || outcome === 'metadata-updated' || outcome === 'conflict-overwritten';
}

function toPrimary(p: Parameter): PrimaryParameter {
  return {
    name: p.Name!,
    value: p.Value ?? '',
    type: p.Type ?? 'String',
    dataType: p.DataType ?? COPIED_DATA_TYPE,
    version: p.Version ?? 0,
    ...(p.LastModifiedDate ? { lastModified: p.LastModifiedDate } : {}),
  };
}

function toReplica(p: Parameter): ReplicaParameter {
  return { value: p.Value ?? '', type: p.Type ?? 'String', dataType: p.DataType ?? COPIED_DATA_TYPE, version: p.Version ?? 0 };
}

function tagMap(tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** The allowed pattern as JavaScript reads it; a pattern it cannot compile is left to Parameter Store. */
function matchesPattern(pattern: string, value: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return true;
  }
  return re.test(value);
}

/** A key id as Parameter Store reports it against the one configured (ids, ARNs and aliases). */
function sameKey(reported: string | undefined, configured: string): boolean {
  if (reported === undefined) return false;
  return reported === configured || reported.endsWith(`/${configured.replace(/^alias\//, '')}`) || reported.endsWith(`:${configured}`);
}

function accountOf(roleArn: string): string | undefined {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1];
}
