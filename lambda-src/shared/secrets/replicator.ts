import { createHash } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretsCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import type { ConflictPolicyName, ReplicaTargetConfig, SelectionConfig } from './contract';
import { REPLICA_REGION_DIMENSION, ReplicatorMetric } from './contract';
import { BATCH_GET_SECRET_VALUE_SIZE, DEFAULT_SECRETS_KEY_ALIAS, LIST_SECRETS_PAGE_SIZE } from './limits';
import { isProvenanceTag, LEGACY_PROVENANCE_TAGS, ProvenanceTag, userTags } from './provenance';
import { isSelected, nameFromArn, primaryListFilters, selectedByIdentity } from './selection';
import { currentVersion, tagMap, toValue, valueFields } from './values';
import { ReplicaVersionIds } from './version-id';
import { ClientCache } from '../clients';
import { chunk, mapSettled } from '../concurrency';
import { mapWhile } from '../continuation';
import { KeyedHasher, SecretValue } from '../hmac';
import { addSplitMetric, errorFields, logger, MetricUnit, MetricUnitType } from '../observability';
import { RunBudget } from '../run-budget';

/** The default KMS key marker recorded in the provenance tag. */
const DEFAULT_KMS_KEY = 'aws/secretsmanager';
/** (secret, target) pairs in flight at once per target; the pacer (pacing.ts) keeps the rate under the quotas. */
const WRITE_CONCURRENCY = 8;
/**
 * Share of an invocation's working time the listing of the replicas may take: beyond it (about
 * 25,000 secrets per target in a 10-minute invocation) describing the replicas of each page costs
 * less than listing them all again in every invocation of the pass.
 */
const MAX_LISTING_SHARE = 0.25;

/** Listing the replicas would take too long; see `MAX_LISTING_SHARE`. */
class ListingTooLong extends Error {
  constructor() {
    super('listing the replicas takes too long');
    this.name = 'ListingTooLong';
  }
}

/** Settings of one replicator deployment (from the environment). */
export interface ReplicatorSettings {
  readonly primaryRegion: string;
  readonly targets: readonly ReplicaTargetConfig[];
  readonly selection: SelectionConfig;
  readonly conflictPolicy: ConflictPolicyName;
  readonly replicateTags: boolean;
  readonly propagateDeletions: boolean;
  readonly deletionRecoveryWindowDays: number;
  /** ARN of the provenance key secret: never replicated. */
  readonly provenanceKeySecretArn: string;
  /** The cross-region-config parameter whose `lastSyncTimestamp` the handler keeps current, if any. */
  readonly configParameterName?: string;
  /** Value of the provenance tag `cross-region-config:deployment`, where IAM scopes replica writes by it. */
  readonly deploymentId?: string;
}

/** The primary's current state of one secret, read at `readAt`. Held in memory only. */
export interface PrimarySecret {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: Record<string, string>;
  readonly deleted: boolean;
  /** VersionId of the primary's AWSCURRENT version. */
  readonly versionId?: string;
  readonly versionCreatedAt?: Date;
  /** The value of `versionId`; read on demand (GetSecretValue by VersionId) when absent. */
  readonly value?: SecretValue;
  readonly readAt: Date;
  /** Set when the primary listed the secret but its value could not be read (error name). */
  readonly readError?: string;
  /**
   * False when only the value was read (a value-only change event): `description` and `tags` are
   * then unknown, read on demand for a create, and left alone on existing replicas.
   * @default true
   */
  readonly metadataKnown?: boolean;
}

/** What the replicator knows of a replica. */
export interface ReplicaState {
  readonly arn: string;
  readonly description?: string;
  readonly tags: Record<string, string>;
  readonly currentVersionId?: string;
  readonly deleted: boolean;
  /** Every version id that carries a staging label. */
  readonly versionIds?: readonly string[];
}

/** What an event says about the change, and so what must be read of the primary first. */
export type ChangeKind = 'value' | 'any';

/**
 * A replica write that Secrets Manager accepted but that did not create the version asked for
 * (the VersionId it answered with is not the request's token), so AWSCURRENT may not hold the
 * copy. Never reported as written: the (secret, target) fails, is counted and retried.
 */
export class ReplicaWriteNotApplied extends Error {
  constructor(secretName: string, region: string) {
    super(`the write of ${secretName} to ${region} did not create the requested replica version`);
    this.name = 'ReplicaWriteNotApplied';
  }
}

/** What happened to one secret in one target. */
export type Outcome =
  | 'created' | 'updated' | 'metadata-updated' | 'in-sync' | 'conflict-overwritten' | 'conflict-skipped'
  | 'stale-skipped' | 'deleted' | 'deletion-not-propagated' | 'absent' | 'failed'
  | 'would-create' | 'would-update' | 'would-delete';

/** The value-free result of one (secret, target) replication. */
export interface TargetResult {
  readonly secretName: string;
  readonly region: string;
  readonly account?: string;
  readonly outcome: Outcome;
  readonly errorName?: string;
  readonly latencyMs?: number;
}

/** The value-free summary returned by every action. */
export interface RunSummary {
  readonly action: string;
  readonly secrets: number;
  readonly outcomes: Partial<Record<Outcome, number>>;
  readonly failures: readonly TargetResult[];
  readonly durationMs: number;
  readonly dryRun: boolean;
}

/**
 * Where a reconciliation resumes: the primary's ListSecrets page being worked and how many of its
 * (secret, replica region) pairs are done. Pairs are worked in listing order, secret by secret and
 * region by region within a secret, and a run stops only between pairs, so the done ones are a prefix.
 */
export interface ReconcileCursor {
  /** NextToken that lists the page; absent for the first page. */
  readonly pageToken?: string;
  /** (secret, replica region) pairs of the page already done. */
  readonly done: number;
  /** True once the replicas are described one by one rather than listed (see `reconcileWithin`). */
  readonly describeReplicas?: boolean;
  /**
   * Digest of the page's selected secret names when the run stopped inside it: a page that lists
   * other secrets when it is read again is worked from its start (repeating is harmless, skipping is not).
   */
  readonly pageDigest?: string;
}

/** What one bounded stretch of a reconciliation did. */
export interface ReconcileProgress {
  readonly results: TargetResult[];
  /** Where the rest starts; `undefined` when the reconciliation reached the end of the listing. */
  readonly next?: ReconcileCursor;
}

/**
 * The replication engine: copies secrets from the primary region to the targets. The secret
 * replicator's handler runs it for events and reconciliations, the drift detector's remediation runs
 * its `apply` for one drifted replica, so both write replicas the same way. One instance per
 * execution environment.
 */
export class SecretReplicator {
  /** Off during a dry run (`test_sync`): a rehearsal must not move metrics or trip alarms. */
  private emitMetrics = true;
  private readonly versionIds: ReplicaVersionIds;
  /** Values read on demand, per primary read (so every target of one run shares one read). */
  private readonly contents = new WeakMap<PrimarySecret, Promise<SecretValue>>();
  private readonly metadata = new WeakMap<PrimarySecret, Promise<PrimarySecret>>();
  /** Regions whose replicas could not be listed in the last reconciliation. */
  private unlisted = new Set<string>();

  constructor(
    private readonly settings: ReplicatorSettings,
    private readonly clients: ClientCache,
    hasher: KeyedHasher,
    private readonly now: () => Date = () => new Date(),
    /** False for callers that report on their own (the drift detector's remediation). */
    private readonly metricsEnabled: boolean = true,
  ) {
    this.versionIds = new ReplicaVersionIds(hasher);
  }

  /** Regions whose replicas could not be listed in the last `reconcile()`: nothing there agreed. */
  get unreachableRegions(): ReadonlySet<string> {
    return this.unlisted;
  }

  private primaryClient(): SecretsManagerClient {
    return this.clients.get(SecretsManagerClient, { region: this.settings.primaryRegion });
  }

  private targetClient(target: ReplicaTargetConfig): SecretsManagerClient {
    return this.clients.get(SecretsManagerClient, target);
  }

  /**
   * Replicates one changed secret (from an event) to every target. Reads the primary's current
   * state rather than trusting the event, so a late or duplicate event converges to the present.
   *
   * For a value-only change (`change: 'value'`) the primary is read with one GetSecretValue; its
   * description and tags are read only when a replica must be created or the selection needs
   * tags. Otherwise one DescribeSecret, and the value only if a replica needs it.
   */
  async syncOne(secretId: string, options: { dryRun?: boolean; change?: ChangeKind } = {}): Promise<TargetResult[]> {
    let primary: PrimarySecret;
    try {
      primary = options.change === 'value' ? await this.readPrimaryValue(secretId) : await this.readPrimary(secretId);
      if (primary.arn === this.settings.provenanceKeySecretArn) return [];
      if (!primary.deleted && selectedByIdentity(this.settings.selection, primary) === undefined) {
        primary = await this.withMetadata(primary);
      }
    } catch (e) {
      // The role may only read the selection (tag-conditioned for tag selections), and the event
      // rule cannot narrow by tag: a secret the role cannot read is one that is not selected.
      if ((e as Error).name !== 'AccessDeniedException') throw e;
      logger.info('secret is not readable by the replicator, so not selected; ignoring', { secretId: shortId(secretId) });
      return [];
    }
    if (!primary.deleted && !(selectedByIdentity(this.settings.selection, primary) ?? isSelected(this.settings.selection, primary))) {
      logger.info('secret is not selected; ignoring', { secretName: primary.name });
      return [];
    }
    const settled = await mapSettled(this.settings.targets, this.settings.targets.length, async (target) => {
      const replica = await this.describeReplica(target, primary.name, { deniedMeansAbsent: true });
      return this.apply(primary, target, replica, options.dryRun ?? false);
    });
    return settled.map((s, i) => s.status === 'fulfilled' ? s.value : this.failure(primary.name, this.settings.targets[i], s.reason));
  }

  /**
   * Full reconciliation: lists the selection in the primary (ListSecrets, 100 a page) and the
   * managed replicas per target, reads the values (BatchGetSecretValue, 20 a call) of only the
   * secrets some replica lacks, and writes only what differs. Also repairs anything a lost event or
   * a failed run left behind.
   */
  async reconcile(options: { dryRun?: boolean } = {}): Promise<TargetResult[]> {
    return (await this.reconcileWithin(RunBudget.unbounded(), undefined, options)).results;
  }

  /**
   * A reconciliation that stops starting work once `budget` says so, finishes what is in flight, and
   * returns the cursor of the rest. Works the primary's listing page by page (ListSecrets, 100 a
   * page); for each page reads the values (BatchGetSecretValue, 20 a call) of only the secrets some
   * replica lacks and writes only what differs. The managed replicas of every target are listed once
   * per call, unless that would take more than `MAX_LISTING_SHARE` of the budget: then each replica
   * is described when its pair is worked. Each call works at least one pair. Resuming at `cursor`
   * repeats nothing that was done (unless its page changed).
   */
  async reconcileWithin(budget: RunBudget, cursor: ReconcileCursor | undefined, options: { dryRun?: boolean } = {}): Promise<ReconcileProgress> {
    this.emitMetrics = !options.dryRun;
    try {
      return await this.reconcilePages(options.dryRun ?? false, budget, cursor);
    } finally {
      this.emitMetrics = true;
    }
  }

  private async reconcilePages(dryRun: boolean, budget: RunBudget, cursor: ReconcileCursor | undefined): Promise<ReconcileProgress> {
    this.unlisted = new Set();
    const results: TargetResult[] = [];
    let token = cursor?.pageToken;
    let skip = cursor?.done ?? 0;
    let expectedDigest = cursor?.pageDigest;
    let describeReplicas = cursor?.describeReplicas ?? false;
    const here = (): ReconcileCursor => ({
      ...(token !== undefined ? { pageToken: token } : {}),
      done: skip,
      ...(expectedDigest ? { pageDigest: expectedDigest } : {}),
      ...(describeReplicas ? { describeReplicas } : {}),
    });
    if (!budget.shouldStartMore()) return { results, next: here() };
    const targets = this.settings.targets;
    let replicaLists: Array<PromiseSettledResult<Map<string, ReplicaState>>> | undefined;
    if (!describeReplicas) {
      replicaLists = await this.listReplicasWithin(budget);
      describeReplicas = replicaLists === undefined;
    }
    for (;;) {
      if (!budget.shouldStartMore() && results.length > 0) return { results, next: here() };
      const page = await this.listPrimaryPage(token);
      const digest = pageDigest(page.primaries);
      if (expectedDigest !== undefined && digest !== expectedDigest) {
        logger.info('listing page changed since the last run stopped in it; working it from its start', { done: skip });
        skip = 0;
      }
      expectedDigest = undefined;
      // (secret, target) pairs in listing order: secret by secret, target by target.
      const pairs = page.primaries.flatMap((primary) => targets.map((target, t) => ({ primary, target, t })));
      const remaining = pairs.slice(skip);
      const pending = [...new Set(remaining.map((w) => w.primary))];
      // Values are read only for secrets some reachable replica lacks: a replica whose AWSCURRENT
      // version id is the replicator's copy of the primary's AWSCURRENT needs nothing. Without a
      // listing of the replicas, every live secret's value is read (20 a call) and each pair
      // describes its replica when it starts, so the cost follows the pairs worked.
      const lacking = (p: PrimarySecret) => replicaLists === undefined || targets.some((target, i) => {
        const listed = replicaLists[i];
        return listed.status === 'fulfilled'
          && !this.versionIds.isCopyOf(listed.value.get(p.name)?.currentVersionId, p.arn, p.versionId!, target);
      });
      const needed = pending.filter((p) => !p.deleted && p.versionId !== undefined && lacking(p));
      const read = new Map<PrimarySecret, PrimarySecret>();
      const withValues = await this.withValues(pending, needed);
      pending.forEach((p, i) => read.set(p, withValues[i]));
      // An invocation that got this far works at least one pair, so a chain always moves forward
      // (the margin is kept for work in flight; one pair fits in it many times over).
      let startedHere = 0;
      const startMore = () => budget.shouldStartMore() || results.length + startedHere === 0;
      const settled = await mapWhile(remaining, WRITE_CONCURRENCY * targets.length, startMore, async ({ primary, target, t }) => {
        startedHere++;
        let known: ReplicaState | undefined;
        if (replicaLists === undefined) {
          known = await this.describeReplica(target, primary.name, { deniedMeansAbsent: true });
        } else {
          const listed = replicaLists[t];
          // The whole target is unreachable: one failure per secret, so every one is counted.
          if (listed.status === 'rejected') throw listed.reason;
          // A replica missing from the managed listing may still exist unmanaged: `apply` finds out on create.
          known = listed.value.get(primary.name);
        }
        return this.apply(read.get(primary)!, target, known, dryRun);
      });
      settled.forEach((s, i) => results.push(s.status === 'fulfilled' ? s.value : this.failure(remaining[i].primary.name, remaining[i].target, s.reason)));
      skip += settled.length;
      if (skip < pairs.length) {
        expectedDigest = digest;
        return { results, next: here() };
      }
      skip = 0;
      if (page.nextToken === undefined) return { results };
      token = page.nextToken;
    }
  }

  /**
   * The managed replicas of every target, listed (ListSecrets, 100 a page) when that takes at most
   * `MAX_LISTING_SHARE` of the invocation's working time; `undefined` when it would take longer (a
   * selection of many thousands of secrets), and the run then describes each replica as it works it.
   */
  private async listReplicasWithin(budget: RunBudget): Promise<Array<PromiseSettledResult<Map<string, ReplicaState>>> | undefined> {
    const remaining = budget.remainingMs();
    const giveUpAt = Number.isFinite(remaining) ? remaining - (remaining - budget.marginMs) * MAX_LISTING_SHARE : Number.NEGATIVE_INFINITY;
    const tooLong = () => budget.remainingMs() < giveUpAt;
    const targets = this.settings.targets;
    const lists = await mapSettled(targets, targets.length, (t) => this.listManagedReplicas(t, tooLong));
    if (lists.some((l) => l.status === 'rejected' && l.reason instanceof ListingTooLong)) {
      logger.info('listing the replicas takes too long for this selection; describing each one as it is worked instead');
      return undefined;
    }
    lists.forEach((listed, i) => {
      if (listed.status === 'rejected') this.unlisted.add(targets[i].region);
    });
    return lists;
  }

  /**
   * Decides and performs what one target needs for one primary secret.
   *
   * Every value write carries a newly minted replica version id (see `ReplicaVersionIds`), so it
   * always creates a new version that becomes AWSCURRENT; the write counts as done only when
   * Secrets Manager answers with exactly that version id. A replica whose AWSCURRENT is the
   * replicator's own older copy (a race with another writer, a rollback in the primary) is
   * repaired without a conflict; any other AWSCURRENT was made in the replica region.
   */
  async apply(primary: PrimarySecret, target: ReplicaTargetConfig, known: ReplicaState | undefined, dryRun: boolean): Promise<TargetResult> {
    const result = (outcome: Outcome, latencyMs?: number): TargetResult => ({
      secretName: primary.name,
      region: target.region,
      ...(target.roleArn ? { account: accountOf(target.roleArn) } : {}),
      outcome,
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    });
    const client = this.targetClient(target);
    let replica = known;

    if (primary.readError) {
      throw Object.assign(new Error(`primary value of ${primary.name} is unreadable`), { name: primary.readError });
    }
    if (primary.deleted) {
      try {
        const outcome = await this.propagateDeletion(primary, target, replica, dryRun);
        return outcome === 'conflict-skipped' ? this.foreignConflict(result, target, primary.name) : result(outcome);
      } catch (e) {
        if (deniedByIam(e) && this.scopedByDeployment(primary.name)) {
          return this.foreignConflict(result, target, primary.name);
        }
        throw e;
      }
    }
    if (!primary.versionId) {
      // A live secret without an AWSCURRENT value (created without one): nothing to copy, and
      // certainly nothing to delete. Counted, so it is seen.
      throw Object.assign(new Error(`primary ${primary.name} has no AWSCURRENT version`), { name: 'NoCurrentVersion' });
    }
    const sourceVersionId = primary.versionId;

    if (!replica) {
      if (dryRun) return result('would-create');
      const full = await this.withMetadata(primary);
      const value = await this.contentOf(primary);
      const token = this.versionIds.mint(primary.arn, sourceVersionId, target, primary.readAt);
      const desiredTags = this.desiredTags(full, target);
      try {
        const created = await client.send(new CreateSecretCommand({
          Name: primary.name,
          Description: full.description,
          KmsKeyId: target.kmsKeyId,
          ClientRequestToken: token,
          ...valueFields(value),
          Tags: Object.entries(desiredTags).map(([Key, Value]) => ({ Key, Value })),
        }));
        this.guard(created.VersionId, token, primary.name, target);
        return this.written(result('created', this.latency(primary)), target, token);
      } catch (e) {
        const name = (e as Error).name;
        if (name !== 'ResourceExistsException' && !isScheduledForDeletion(e)) throw e;
        // It exists: unmanaged, listed late, or pending deletion. Look at it and carry on.
        try {
          replica = await this.describeReplica(target, primary.name);
        } catch (describeError) {
          // With tag-scoped IAM (tag-only selections) a secret we do not manage cannot even be read.
          if ((describeError as Error).name === 'AccessDeniedException') return this.conflict(result, target, 'conflict-skipped', primary.name);
          throw describeError;
        }
        if (!replica) throw e;
      }
    }

    if (this.foreignToDeployment(primary.name, replica)) return this.foreignConflict(result, target, primary.name);
    try {
      return await this.reconcileReplica(primary, target, replica, dryRun, result);
    } catch (e) {
      // IAM scoped by the deployment tag refuses writes to a replica it does not recognise as this
      // deployment's (the tag changed between our read and the write, or a read saw stale tags).
      if (deniedByIam(e) && this.scopedByDeployment(primary.name)) {
        return this.foreignConflict(result, target, primary.name);
      }
      throw e;
    }
  }

  /** `apply` for a replica that exists and may be written by this deployment. */
  private async reconcileReplica(
    primary: PrimarySecret, target: ReplicaTargetConfig, replica: ReplicaState, dryRun: boolean,
    result: (outcome: Outcome, latencyMs?: number) => TargetResult,
  ): Promise<TargetResult> {
    const client = this.targetClient(target);
    const sourceVersionId = primary.versionId!;
    const kmsKey = target.kmsKeyId ?? DEFAULT_KMS_KEY;
    const current = replica.currentVersionId;
    const own = this.versionIds.verify(current, primary.arn, target);
    // The replicator's copy from before version ids carried the provenance (its tags said so), or
    // made under an earlier provenance key: out of date, not a change made in the replica region.
    const earlierCopy = !own && current !== undefined && replica.tags[ProvenanceTag.SOURCE_ARN] === primary.arn
      && (current === replica.tags[LEGACY_REPLICA_VERSION_ID] || this.versionIds.hasReplicaForm(current));
    const managed = own !== undefined || replica.tags[ProvenanceTag.SOURCE_ARN] === primary.arn;
    // A replica scheduled for deletion while the primary lives is a local change, unless the
    // replicator scheduled it itself (a propagated deletion, now undone by a restore).
    const deletedLocally = replica.deleted && replica.tags[ProvenanceTag.DELETION_PROPAGATED_AT] === undefined;
    if (replica.deleted && (!managed || (deletedLocally && this.settings.conflictPolicy === 'SKIP_AND_ALARM'))) {
      return this.conflict(result, target, 'conflict-skipped', primary.name);
    }
    if (replica.deleted) {
      if (dryRun) return result('would-update');
      await client.send(new RestoreSecretCommand({ SecretId: replica.arn }));
    }

    // Only an AWSCURRENT the replicator did not write is a conflict: its own older copy (a lost
    // race, a rollback in the primary) is simply out of date.
    const localChange = !managed || deletedLocally || (current !== undefined && !own && !earlierCopy);
    if (localChange && this.settings.conflictPolicy === 'SKIP_AND_ALARM') {
      return this.conflict(result, target, 'conflict-skipped', primary.name);
    }
    const copyOfCurrent = own !== undefined && own.sourcePart === this.versionIds.sourcePart(sourceVersionId);
    if (!localChange && own && !copyOfCurrent && own.readAt.getTime() > primary.readAt.getTime()) {
      // Another invocation read a newer primary state and already copied it: never go back.
      logger.info('replica holds a newer copy; skipping', { secretName: primary.name, region: target.region });
      return result('stale-skipped');
    }

    const valueInSync = !localChange && copyOfCurrent && replica.tags[ProvenanceTag.KMS_KEY] === kmsKey;
    const metadataKnown = primary.metadataKnown !== false;
    const descriptionInSync = !metadataKnown || (replica.description ?? '') === (primary.description ?? '');
    const desiredTags = this.desiredTags(primary, target);
    const { toTag, toUntag } = this.tagChanges(replica.tags, desiredTags, metadataKnown);
    if (valueInSync && descriptionInSync && toTag.length === 0 && toUntag.length === 0) return result('in-sync');
    if (dryRun) return result('would-update');

    let written: string | undefined;
    if (!valueInSync) {
      const value = await this.contentOf(primary);
      let token = this.versionIds.mint(primary.arn, sourceVersionId, target, primary.readAt);
      // A fresh nonce makes a clash with an existing version all but impossible; never risk one.
      while (replica.versionIds?.includes(token)) token = this.versionIds.mint(primary.arn, sourceVersionId, target, primary.readAt);
      const updated = await client.send(new UpdateSecretCommand({
        SecretId: replica.arn,
        ...(metadataKnown ? { Description: primary.description ?? '' } : {}),
        KmsKeyId: target.kmsKeyId ?? DEFAULT_SECRETS_KEY_ALIAS,
        ClientRequestToken: token,
        ...valueFields(value),
      }));
      this.guard(updated.VersionId, token, primary.name, target);
      written = token;
    } else if (!descriptionInSync) {
      await client.send(new UpdateSecretCommand({ SecretId: replica.arn, Description: primary.description ?? '' }));
    }
    if (toTag.length > 0) {
      await client.send(new TagResourceCommand({ SecretId: replica.arn, Tags: toTag.map((Key) => ({ Key, Value: desiredTags[Key] })) }));
    }
    if (toUntag.length > 0) {
      await client.send(new UntagResourceCommand({ SecretId: replica.arn, TagKeys: toUntag }));
    }
    if (localChange) return this.conflict(result, target, 'conflict-overwritten', primary.name, this.latency(primary), written);
    return this.written(result(written ? 'updated' : 'metadata-updated', written ? this.latency(primary) : undefined), target, written);
  }

  /** Throws unless Secrets Manager answered a value write with the version id it was asked to create. */
  private guard(answered: string | undefined, token: string, secretName: string, target: ReplicaTargetConfig): void {
    if (answered !== token) {
      logger.error('replica write did not create the requested version', { secretName, region: target.region, replicaVersionId: token });
      throw new ReplicaWriteNotApplied(secretName, target.region);
    }
  }

  /** The value of the primary's `versionId`, read once per primary read. */
  private contentOf(primary: PrimarySecret): Promise<SecretValue> {
    if (primary.value) return Promise.resolve(primary.value);
    let pending = this.contents.get(primary);
    if (!pending) {
      pending = this.primaryClient().send(new GetSecretValueCommand({ SecretId: primary.arn, VersionId: primary.versionId }))
        .then((got) => {
          const value = toValue(got.SecretString, got.SecretBinary);
          if (!value) throw Object.assign(new Error(`primary version of ${primary.name} has no value`), { name: 'MissingValue' });
          return value;
        });
      this.contents.set(primary, pending);
    }
    return pending;
  }

  /** `primary` with its description and tags, read once (DescribeSecret) when they are unknown. */
  private withMetadata(primary: PrimarySecret): Promise<PrimarySecret> {
    if (primary.metadataKnown !== false) return Promise.resolve(primary);
    let pending = this.metadata.get(primary);
    if (!pending) {
      pending = this.primaryClient().send(new DescribeSecretCommand({ SecretId: primary.arn }))
        .then((d) => ({ ...primary, description: d.Description, tags: userTags(d.Tags), metadataKnown: true }));
      this.metadata.set(primary, pending);
    }
    return pending;
  }

  /**
   * `replica` is already known on both paths (described on an event, listed with every managed
   * replica on a reconcile), so an undefined one means there is nothing of ours to delete.
   */
  private async propagateDeletion(
    primary: PrimarySecret, target: ReplicaTargetConfig, managedReplica: ReplicaState | undefined, dryRun: boolean,
  ): Promise<Outcome> {
    if (!managedReplica || managedReplica.deleted) return 'absent';
    const sourceArn = managedReplica.tags[ProvenanceTag.SOURCE_ARN];
    const ours = sourceArn === primary.arn || (sourceArn !== undefined && nameFromArn(sourceArn) === primary.name
      && managedReplica.tags[ProvenanceTag.SOURCE_REGION] === this.settings.primaryRegion);
    if (ours && this.settings.propagateDeletions && this.foreignToDeployment(primary.name, managedReplica)) return 'conflict-skipped';
    // Selected when the replica was last written: by its own tags (the primary's, with tag
    // replication), or, where IAM scopes replicas by deployment, by carrying this deployment's tag,
    // which the replicator writes only on replicas of selected secrets. The replica's tags are used
    // rather than the primary's because a primary deleted without recovery window has none left.
    const stillSelected = isSelected(this.settings.selection, { name: primary.name, arn: sourceArn ?? primary.arn, tags: managedReplica.tags })
      || (this.settings.deploymentId !== undefined && managedReplica.tags[ProvenanceTag.DEPLOYMENT] === this.settings.deploymentId);
    if (!ours || !stillSelected || !this.settings.propagateDeletions) return 'deletion-not-propagated';
    if (dryRun) return 'would-delete';
    await this.targetClient(target).send(new TagResourceCommand({
      SecretId: managedReplica.arn,
      Tags: [{ Key: ProvenanceTag.DELETION_PROPAGATED_AT, Value: this.now().toISOString() }],
    }));
    await this.targetClient(target).send(new DeleteSecretCommand({
      SecretId: managedReplica.arn,
      RecoveryWindowInDays: this.settings.deletionRecoveryWindowDays,
    }));
    logger.info('deletion propagated', { secretName: primary.name, region: target.region });
    return 'deleted';
  }

  /**
   * Tags a replica should carry: the provenance that does not change with the value (which
   * primary, which key; the copied version is in the version id) and, with tag replication, the
   * primary's own tags.
   */
  private desiredTags(primary: PrimarySecret, target: ReplicaTargetConfig): Record<string, string> {
    return {
      ...(this.settings.replicateTags && primary.metadataKnown !== false ? primary.tags : {}),
      [ProvenanceTag.SOURCE_REGION]: this.settings.primaryRegion,
      [ProvenanceTag.SOURCE_ARN]: primary.arn,
      [ProvenanceTag.KMS_KEY]: target.kmsKeyId ?? DEFAULT_KMS_KEY,
      ...(this.settings.deploymentId ? { [ProvenanceTag.DEPLOYMENT]: this.settings.deploymentId } : {}),
    };
  }

  /**
   * Tags to set and remove. Provenance tags are always kept exact; tags that described one copied
   * version (written before the version id carried it) are removed. The primary's own tags are
   * mirrored when tag replication is on and they are known (not on a value-only change).
   */
  private tagChanges(current: Record<string, string>, desired: Record<string, string>, metadataKnown: boolean) {
    const toTag = Object.keys(desired).filter((key) => current[key] !== desired[key] && (isProvenanceTag(key) || metadataKnown));
    const toUntag = Object.keys(current).filter((key) => !(key in desired) && (isProvenanceTag(key)
      || (metadataKnown && this.settings.replicateTags && !key.startsWith('aws:'))));
    return { toTag, toUntag };
  }

  private metric(name: string, unit: MetricUnitType, value: number, target: ReplicaTargetConfig): void {
    if (this.emitMetrics && this.metricsEnabled) addSplitMetric(name, unit, value, REPLICA_REGION_DIMENSION, target.region);
  }

  /** Counts and logs a write; `replicaVersionId` names the value copy it created, if any. */
  private written(result: TargetResult, target: ReplicaTargetConfig, replicaVersionId?: string): TargetResult {
    this.metric(ReplicatorMetric.REPLICATED_SECRETS, MetricUnit.Count, 1, target);
    if (result.latencyMs !== undefined) {
      this.metric(ReplicatorMetric.REPLICATION_LATENCY, MetricUnit.Milliseconds, result.latencyMs, target);
    }
    logger.info('replica written', {
      secretName: result.secretName, region: target.region, outcome: result.outcome, ...(replicaVersionId ? { replicaVersionId } : {}),
    });
    return result;
  }

  private conflict(
    result: (o: Outcome, l?: number) => TargetResult, target: ReplicaTargetConfig, outcome: Outcome, secretName: string, latencyMs?: number,
    replicaVersionId?: string,
  ): TargetResult {
    this.metric(ReplicatorMetric.CONFLICTS, MetricUnit.Count, 1, target);
    logger.warn('replica was changed outside the replicator', { secretName, region: target.region, resolution: outcome });
    if (outcome === 'conflict-overwritten') return this.written(result(outcome, latencyMs), target, replicaVersionId);
    return result(outcome);
  }

  /**
   * True when IAM lets this deployment write the replica of `secretName` only by its deployment tag:
   * a `deploymentId` is set and no rule names the secret or a prefix of its name (the replica-region
   * names IAM can grant). ARN rules count as unnamed: an `ISecret` created in the app has a name
   * only known at deploy time, and the handler cannot tell it from a literal one.
   */
  private scopedByDeployment(secretName: string): boolean {
    if (this.settings.deploymentId === undefined) return false;
    return !this.settings.selection.rules.some((rule) => (rule.names ?? []).includes(secretName)
      || (rule.namePrefixes ?? []).some((prefix) => secretName.startsWith(prefix)));
  }

  /** True when the role may not write `replica` because it does not carry this deployment's tag. */
  private foreignToDeployment(secretName: string, replica: ReplicaState): boolean {
    return this.scopedByDeployment(secretName) && replica.tags[ProvenanceTag.DEPLOYMENT] !== this.settings.deploymentId;
  }

  /** A replica of another deployment (or written before deployment tags): counted as a skipped conflict, never written. */
  private foreignConflict(result: (o: Outcome) => TargetResult, target: ReplicaTargetConfig, secretName: string): TargetResult {
    this.metric(ReplicatorMetric.CONFLICTS, MetricUnit.Count, 1, target);
    logger.warn('replica belongs to another deployment or predates deployment tags; see README upgrade step', {
      secretName, region: target.region, resolution: 'conflict-skipped',
    });
    return result('conflict-skipped');
  }

  private failure(secretName: string, target: ReplicaTargetConfig, error: unknown): TargetResult {
    this.metric(ReplicatorMetric.REPLICATION_FAILURES, MetricUnit.Count, 1, target);
    const fields = errorFields(error);
    logger.error('replication failed', { secretName, region: target.region, ...fields });
    return { secretName, region: target.region, outcome: 'failed', errorName: fields.errorName };
  }

  /** Age of the primary version when its copy landed: the replication lag an operator sees. */
  private latency(primary: PrimarySecret): number | undefined {
    return primary.versionCreatedAt ? Math.max(0, this.now().getTime() - primary.versionCreatedAt.getTime()) : undefined;
  }

  /**
   * DescribeSecret in the primary: metadata and the AWSCURRENT version id; the value is read on
   * demand. A missing secret reads as deleted.
   */
  async readPrimary(secretId: string): Promise<PrimarySecret> {
    const readAt = this.now();
    let described: DescribeSecretCommandOutput;
    try {
      described = await this.primaryClient().send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
      return missingPrimary(secretId, readAt);
    }
    return {
      arn: described.ARN!,
      name: described.Name!,
      description: described.Description,
      tags: userTags(described.Tags),
      readAt,
      deleted: Boolean(described.DeletedDate),
      ...(described.DeletedDate ? {} : { versionId: currentVersion(described.VersionIdsToStages) }),
    };
  }

  /**
   * GetSecretValue (AWSCURRENT) in the primary: name, ARN, version and value in one call, for a
   * value-only change. A secret pending deletion is read again with DescribeSecret.
   */
  async readPrimaryValue(secretId: string): Promise<PrimarySecret> {
    const readAt = this.now();
    try {
      // AWSCURRENT is the default; naming it also keeps emulators that track a separate default honest.
      const got = await this.primaryClient().send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
      return {
        arn: got.ARN!,
        name: got.Name!,
        tags: {},
        metadataKnown: false,
        readAt,
        deleted: false,
        versionId: got.VersionId,
        versionCreatedAt: got.CreatedDate,
        value: toValue(got.SecretString, got.SecretBinary),
      };
    } catch (e) {
      // Not found may mean no secret, or a secret without an AWSCURRENT value; pending deletion
      // is refused. DescribeSecret tells which.
      if ((e as Error).name === 'ResourceNotFoundException' || isScheduledForDeletion(e) || /deleted/i.test((e as Error).message ?? '')) {
        return this.readPrimary(secretId);
      }
      throw e;
    }
  }

  /** One ListSecrets page of the primary: the selected secrets on it (metadata and AWSCURRENT version ids, no values). */
  private async listPrimaryPage(nextToken: string | undefined): Promise<{ primaries: PrimarySecret[]; nextToken?: string }> {
    const readAt = this.now();
    const page = await this.primaryClient().send(new ListSecretsCommand({
      MaxResults: LIST_SECRETS_PAGE_SIZE, NextToken: nextToken, IncludePlannedDeletion: true, Filters: primaryListFilters(this.settings.selection),
    }));
    const primaries: PrimarySecret[] = [];
    for (const entry of page.SecretList ?? []) {
      if (entry.ARN === this.settings.provenanceKeySecretArn) continue;
      if (!isSelected(this.settings.selection, { name: entry.Name!, arn: entry.ARN!, tags: userTags(entry.Tags) })) continue;
      primaries.push({
        arn: entry.ARN!,
        name: entry.Name!,
        description: entry.Description,
        tags: userTags(entry.Tags),
        readAt,
        deleted: Boolean(entry.DeletedDate),
        ...(entry.DeletedDate ? {} : { versionId: currentVersion(entry.SecretVersionsToStages) }),
      });
    }
    return { primaries, ...(page.NextToken ? { nextToken: page.NextToken } : {}) };
  }

  /**
   * Reads the values of `needed` in batches (BatchGetSecretValue, 20 a call). The version and value
   * come from the same answer, so a secret that changed since the listing is copied as it is now.
   */
  private async withValues(primaries: PrimarySecret[], needed: PrimarySecret[]): Promise<PrimarySecret[]> {
    const values = new Map<string, { versionId?: string; createdAt?: Date; value?: SecretValue }>();
    const readErrors = new Map<string, string>();
    for (const ids of chunk(needed.map((p) => p.arn), BATCH_GET_SECRET_VALUE_SIZE)) {
      const batch = await this.primaryClient().send(new BatchGetSecretValueCommand({ SecretIdList: ids }));
      for (const v of batch.SecretValues ?? []) {
        values.set(v.ARN!, { versionId: v.VersionId, createdAt: v.CreatedDate, value: toValue(v.SecretString, v.SecretBinary) });
      }
      for (const err of batch.Errors ?? []) {
        readErrors.set(err.SecretId!, err.ErrorCode ?? 'Error');
      }
    }
    const wanted = new Set(needed);
    return primaries.map((p) => {
      if (!wanted.has(p)) return p;
      const v = values.get(p.arn);
      if (!v?.value || !v.versionId) return { ...p, readError: readErrors.get(p.arn) ?? readErrors.get(p.name) ?? 'MissingFromBatch' };
      return { ...p, versionId: v.versionId, versionCreatedAt: v.createdAt, value: v.value };
    });
  }

  /** Replicas this deployment manages in a target, by name (one ListSecrets page per 100); stops with `ListingTooLong` once `tooLong()`. */
  private async listManagedReplicas(target: ReplicaTargetConfig, tooLong: () => boolean = () => false): Promise<Map<string, ReplicaState>> {
    const client = this.targetClient(target);
    const replicas = new Map<string, ReplicaState>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListSecretsCommand({
        MaxResults: LIST_SECRETS_PAGE_SIZE,
        NextToken: nextToken,
        IncludePlannedDeletion: true,
        Filters: [{ Key: 'tag-key', Values: [ProvenanceTag.SOURCE_ARN] }],
      }));
      for (const entry of page.SecretList ?? []) {
        replicas.set(entry.Name!, {
          arn: entry.ARN!,
          description: entry.Description,
          tags: tagMap(entry.Tags),
          currentVersionId: currentVersion(entry.SecretVersionsToStages),
          versionIds: Object.keys(entry.SecretVersionsToStages ?? {}),
          deleted: Boolean(entry.DeletedDate),
        });
      }
      nextToken = page.NextToken;
      if (nextToken && tooLong()) throw new ListingTooLong();
    } while (nextToken);
    return replicas;
  }

  /**
   * DescribeSecret in a target; `undefined` when there is no such secret. With
   * `deniedMeansAbsent`, AccessDenied also reads as "absent or not ours": IAM scoped to the
   * replicator's own replicas (tag selections) denies DescribeSecret on a name that does not exist
   * yet, and a create then either succeeds or meets the foreign secret (ResourceExistsException).
   */
  async describeReplica(target: ReplicaTargetConfig, name: string, options: { deniedMeansAbsent?: boolean } = {}): Promise<ReplicaState | undefined> {
    try {
      const d = await this.targetClient(target).send(new DescribeSecretCommand({ SecretId: name }));
      return {
        arn: d.ARN!,
        description: d.Description,
        tags: tagMap(d.Tags),
        currentVersionId: currentVersion(d.VersionIdsToStages),
        versionIds: Object.keys(d.VersionIdsToStages ?? {}),
        deleted: Boolean(d.DeletedDate),
      };
    } catch (e) {
      const errorName = (e as Error).name;
      if (errorName === 'ResourceNotFoundException') return undefined;
      if (errorName === 'AccessDeniedException' && options.deniedMeansAbsent) {
        logger.info('replica not readable; treating it as absent or not ours', { secretName: name, region: target.region });
        return undefined;
      }
      throw e;
    }
  }
}

/** The replicator's copy tag of a replica version id, written by earlier releases; read for migration only. */
const LEGACY_REPLICA_VERSION_ID = LEGACY_PROVENANCE_TAGS.REPLICA_VERSION_ID;

/** A short digest of the selected secrets on a listing page (names, in order): value-free. */
function pageDigest(primaries: readonly PrimarySecret[]): string {
  // 16 hex characters (64 bits): a changed page is told from the old one with certainty in practice.
  return createHash('sha256').update(primaries.map((p) => p.name).join('\n')).digest('hex').slice(0, 16);
}

/** A primary that does not exist (any more): read as deleted. */
function missingPrimary(secretId: string, readAt: Date): PrimarySecret {
  const name = nameFromArn(secretId) ?? secretId;
  return { arn: secretId.startsWith('arn:') ? secretId : '', name, tags: {}, deleted: true, readAt };
}

/** A secret id for a log line: event payloads are not trusted to be short. */
function shortId(secretId: string): string {
  return secretId.length > MAX_LOGGED_ID_CHARS ? `${secretId.slice(0, MAX_LOGGED_ID_CHARS)}...` : secretId;
}

/** Longest secret ARN Secrets Manager produces is well under this. */
const MAX_LOGGED_ID_CHARS = 2048;

/** Counts outcomes and extracts failures for the run summary. */
export function summarize(action: string, results: readonly TargetResult[], startedAt: number, dryRun: boolean): RunSummary {
  const outcomes: Partial<Record<Outcome, number>> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return {
    action,
    secrets: new Set(results.map((r) => r.secretName)).size,
    outcomes,
    failures: results.filter((r) => r.outcome === 'failed'),
    durationMs: Date.now() - startedAt,
    dryRun,
  };
}

/**
 * AccessDenied from IAM, not from KMS: Secrets Manager also answers AccessDeniedException when it
 * may not use the replica's KMS key ("Access to KMS is not allowed"), which is a failure to fix,
 * not a replica of another deployment.
 */
function deniedByIam(error: unknown): boolean {
  const e = error as Error;
  return e.name === 'AccessDeniedException' && !/\bKMS\b/.test(e.message ?? '');
}

function isScheduledForDeletion(error: unknown): boolean {
  const e = error as Error;
  return e.name === 'InvalidRequestException' && /scheduled for deletion/i.test(e.message ?? '');
}

function accountOf(roleArn: string): string | undefined {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1];
}
