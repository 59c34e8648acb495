import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretsCommand,
  RestoreSecretCommand,
  SecretListEntry,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { isSelected, nameFromArn } from './selection';
import type { ConflictPolicyName, ReplicaTargetConfig, SelectionConfig } from '../../src/secret-replicator/contract';
import { PROVENANCE_TAG_PREFIX, ProvenanceTag, REPLICA_REGION_DIMENSION, ReplicatorMetric } from '../../src/secret-replicator/contract';
import { ClientCache } from '../shared/clients';
import { chunk, mapSettled } from '../shared/concurrency';
import { KeyedHasher, SecretValue } from '../shared/hmac';
import { addSplitMetric, errorFields, logger, MetricUnit, MetricUnitType } from '../shared/observability';

/** The default KMS key marker recorded in the provenance tag. */
const DEFAULT_KMS_KEY = 'aws/secretsmanager';
/** ListSecrets page size: the API maximum. */
const LIST_PAGE_SIZE = 100;
/** BatchGetSecretValue takes at most 20 secret ids per call. */
const BATCH_GET_SIZE = 20;
/** (secret, target) pairs in flight at once; keeps well under per-region write quotas (50 TPS). */
const WRITE_CONCURRENCY = 8;

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
  readonly versionId?: string;
  readonly versionCreatedAt?: Date;
  readonly value?: SecretValue;
  readonly readAt: Date;
  /** Set when the primary listed the secret but its value could not be read (error name). */
  readonly readError?: string;
}

/** What the replicator knows of a replica. */
export interface ReplicaState {
  readonly arn: string;
  readonly description?: string;
  readonly tags: Record<string, string>;
  readonly currentVersionId?: string;
  readonly deleted: boolean;
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

/** Copies secrets from the primary region to the targets. One instance per execution environment. */
export class SecretReplicator {
  /** Off during a dry run (`test_sync`): a rehearsal must not move metrics or trip alarms. */
  private emitMetrics = true;

  constructor(
    private readonly settings: ReplicatorSettings,
    private readonly clients: ClientCache,
    private readonly hasher: KeyedHasher,
    private readonly now: () => Date = () => new Date(),
    /** False for callers that report on their own (the drift detector's remediation). */
    private readonly metricsEnabled: boolean = true,
  ) {}

  private primaryClient(): SecretsManagerClient {
    return this.clients.get(SecretsManagerClient, { region: this.settings.primaryRegion });
  }

  private targetClient(target: ReplicaTargetConfig): SecretsManagerClient {
    return this.clients.get(SecretsManagerClient, target);
  }

  /**
   * Replicates one changed secret (from an event) to every target. Reads the primary's current
   * state rather than trusting the event, so a late or duplicate event converges to the present.
   */
  async syncOne(secretId: string, options: { dryRun?: boolean } = {}): Promise<TargetResult[]> {
    let primary: PrimarySecret;
    try {
      primary = await this.readPrimary(secretId);
    } catch (e) {
      // The role may only read the selection (tag-conditioned for tag selections), and the event
      // rule cannot narrow by tag: a secret the role cannot read is one that is not selected.
      if ((e as Error).name !== 'AccessDeniedException') throw e;
      logger.info('secret is not readable by the replicator, so not selected; ignoring', { secretId });
      return [];
    }
    if (primary.arn === this.settings.provenanceKeySecretArn) return [];
    if (!primary.deleted && !isSelected(this.settings.selection, primary)) {
      logger.info('secret is not selected; ignoring', { secretName: primary.name });
      return [];
    }
    const settled = await mapSettled(this.settings.targets, this.settings.targets.length, async (target) => {
      const replica = await this.describeReplica(target, primary.name);
      return this.apply(primary, target, replica, options.dryRun ?? false);
    });
    return settled.map((s, i) => s.status === 'fulfilled' ? s.value : this.failure(primary.name, this.settings.targets[i], s.reason));
  }

  /**
   * Full reconciliation: lists the selection in the primary (ListSecrets, 100 a page), reads the
   * values in batches (BatchGetSecretValue, 20 a call), lists managed replicas per target, and
   * writes only what differs. Also repairs anything a lost event or a failed run left behind.
   */
  async reconcile(options: { dryRun?: boolean } = {}): Promise<TargetResult[]> {
    this.emitMetrics = !options.dryRun;
    try {
      return await this.reconcileAll(options.dryRun ?? false);
    } finally {
      this.emitMetrics = true;
    }
  }

  private async reconcileAll(dryRun: boolean): Promise<TargetResult[]> {
    const primaries = await this.readAllPrimaries();
    const replicaLists = await mapSettled(this.settings.targets, this.settings.targets.length, (t) => this.listManagedReplicas(t));
    const work: Array<{ primary: PrimarySecret; target: ReplicaTargetConfig; replicas: Map<string, ReplicaState> }> = [];
    const results: TargetResult[] = [];
    this.settings.targets.forEach((target, i) => {
      const listed = replicaLists[i];
      if (listed.status === 'rejected') {
        // The whole target is unreachable: one failure per secret, so every one is counted.
        for (const primary of primaries) results.push(this.failure(primary.name, target, listed.reason));
        return;
      }
      for (const primary of primaries) work.push({ primary, target, replicas: listed.value });
    });
    const settled = await mapSettled(work, WRITE_CONCURRENCY * this.settings.targets.length, async ({ primary, target, replicas }) => {
      const known = replicas.get(primary.name);
      // A replica missing from the managed listing may still exist unmanaged: `apply` finds out on create.
      return this.apply(primary, target, known, dryRun);
    });
    settled.forEach((s, i) => results.push(s.status === 'fulfilled' ? s.value : this.failure(work[i].primary.name, work[i].target, s.reason)));
    return results;
  }

  /** Decides and performs what one target needs for one primary secret. */
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
    if (primary.deleted || !primary.value || !primary.versionId) {
      return result(await this.propagateDeletion(primary, target, replica, dryRun));
    }

    const contentHmac = this.hasher.contentHmac(primary.value);
    // The replica's version id for this copy. Deterministic, so a retried or duplicate write is a
    // no-op (Secrets Manager is idempotent per ClientRequestToken) and a crash between the write and
    // the tagging is recognised as our own version on the next run.
    const copyToken = (...extra: string[]) => this.hasher.versionToken(
      primary.arn, primary.versionId!, contentHmac, target.region, target.roleArn ?? '', ...extra);
    const token = copyToken();

    if (!replica) {
      const desiredTags = this.desiredTags(primary, target, contentHmac, token);
      if (dryRun) return result('would-create');
      try {
        await client.send(new CreateSecretCommand({
          Name: primary.name,
          Description: primary.description,
          KmsKeyId: target.kmsKeyId,
          ClientRequestToken: token,
          ...valueFields(primary.value),
          Tags: Object.entries(desiredTags).map(([Key, Value]) => ({ Key, Value })),
        }));
        return this.written(result('created', this.latency(primary)), target);
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

    const managed = replica.tags[ProvenanceTag.SOURCE_ARN] === primary.arn;
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

    const localChange = !managed || deletedLocally || (replica.currentVersionId !== undefined
      && replica.currentVersionId !== replica.tags[ProvenanceTag.REPLICA_VERSION_ID]
      && replica.currentVersionId !== token);
    if (localChange && this.settings.conflictPolicy === 'SKIP_AND_ALARM') {
      return this.conflict(result, target, 'conflict-skipped', primary.name);
    }
    // Overwriting a local change needs a version id of its own: re-using the original copy's id
    // would be an idempotent no-op that leaves the local value current.
    const writeToken = localChange ? copyToken('overwrite', replica.currentVersionId ?? '') : token;
    const desiredTags = this.desiredTags(primary, target, contentHmac, writeToken);
    if (!localChange && (replica.tags[ProvenanceTag.SYNCED_AT] ?? '') > primary.readAt.toISOString()) {
      // Another invocation read a newer primary state and already copied it: never go back.
      logger.info('replica holds a newer copy; skipping', { secretName: primary.name, region: target.region });
      return result('stale-skipped');
    }

    const valueInSync = !localChange && replica.tags[ProvenanceTag.CONTENT_HMAC] === contentHmac
      && replica.tags[ProvenanceTag.KMS_KEY] === desiredTags[ProvenanceTag.KMS_KEY];
    const descriptionInSync = (replica.description ?? '') === (primary.description ?? '');
    const { toTag, toUntag } = this.tagChanges(replica.tags, desiredTags, valueInSync);
    if (valueInSync && descriptionInSync && toTag.length === 0 && toUntag.length === 0) return result('in-sync');
    if (dryRun) return result('would-update');

    if (!valueInSync) {
      await client.send(new UpdateSecretCommand({
        SecretId: replica.arn,
        Description: primary.description ?? '',
        KmsKeyId: target.kmsKeyId ?? DEFAULT_KMS_KEY_ALIAS,
        ClientRequestToken: writeToken,
        ...valueFields(primary.value),
      }));
    } else if (!descriptionInSync) {
      await client.send(new UpdateSecretCommand({ SecretId: replica.arn, Description: primary.description ?? '' }));
    }
    if (toTag.length > 0) {
      await client.send(new TagResourceCommand({ SecretId: replica.arn, Tags: toTag.map((Key) => ({ Key, Value: desiredTags[Key] })) }));
    }
    if (toUntag.length > 0) {
      await client.send(new UntagResourceCommand({ SecretId: replica.arn, TagKeys: toUntag }));
    }
    if (localChange) return this.conflict(result, target, 'conflict-overwritten', primary.name, this.latency(primary));
    return this.written(result(valueInSync ? 'metadata-updated' : 'updated', valueInSync ? undefined : this.latency(primary)), target);
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
    const stillSelected = isSelected(this.settings.selection, { name: primary.name, arn: sourceArn ?? primary.arn, tags: managedReplica.tags });
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

  private desiredTags(primary: PrimarySecret, target: ReplicaTargetConfig, contentHmac: string, token: string): Record<string, string> {
    return {
      ...(this.settings.replicateTags ? primary.tags : {}),
      [ProvenanceTag.SOURCE_REGION]: this.settings.primaryRegion,
      [ProvenanceTag.SOURCE_ARN]: primary.arn,
      [ProvenanceTag.SOURCE_VERSION_ID]: primary.versionId!,
      [ProvenanceTag.CONTENT_HMAC]: contentHmac,
      [ProvenanceTag.REPLICA_VERSION_ID]: token,
      [ProvenanceTag.KMS_KEY]: target.kmsKeyId ?? DEFAULT_KMS_KEY,
      [ProvenanceTag.SYNCED_AT]: primary.readAt.toISOString(),
      ...(this.settings.deploymentId ? { [ProvenanceTag.DEPLOYMENT]: this.settings.deploymentId } : {}),
    };
  }

  /**
   * Tags to set and remove. Provenance tags are only rewritten with a new value copy (their
   * synced-at must not move otherwise); primary tags are mirrored when tag replication is on.
   */
  private tagChanges(current: Record<string, string>, desired: Record<string, string>, valueInSync: boolean) {
    const isProvenance = (key: string) => key.startsWith(PROVENANCE_TAG_PREFIX);
    const toTag = Object.keys(desired).filter((key) => current[key] !== desired[key] && (!isProvenance(key) || !valueInSync));
    const toUntag = Object.keys(current).filter((key) => !(key in desired) && (isProvenance(key)
      || (this.settings.replicateTags && !key.startsWith('aws:'))));
    return { toTag, toUntag };
  }

  private metric(name: string, unit: MetricUnitType, value: number, target: ReplicaTargetConfig): void {
    if (this.emitMetrics && this.metricsEnabled) addSplitMetric(name, unit, value, REPLICA_REGION_DIMENSION, target.region);
  }

  private written(result: TargetResult, target: ReplicaTargetConfig): TargetResult {
    this.metric(ReplicatorMetric.REPLICATED_SECRETS, MetricUnit.Count, 1, target);
    if (result.latencyMs !== undefined) {
      this.metric(ReplicatorMetric.REPLICATION_LATENCY, MetricUnit.Milliseconds, result.latencyMs, target);
    }
    logger.info('replica written', { secretName: result.secretName, region: target.region, outcome: result.outcome });
    return result;
  }

  private conflict(
    result: (o: Outcome, l?: number) => TargetResult, target: ReplicaTargetConfig, outcome: Outcome, secretName: string, latencyMs?: number,
  ): TargetResult {
    this.metric(ReplicatorMetric.CONFLICTS, MetricUnit.Count, 1, target);
    logger.warn('replica was changed outside the replicator', { secretName, region: target.region, resolution: outcome });
    if (outcome === 'conflict-overwritten') return this.written(result(outcome, latencyMs), target);
    return result(outcome);
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

  /** DescribeSecret + GetSecretValue in the primary. A missing secret reads as deleted. */
  async readPrimary(secretId: string): Promise<PrimarySecret> {
    const client = this.primaryClient();
    const readAt = this.now();
    let described: DescribeSecretCommandOutput;
    try {
      described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
      const name = nameFromArn(secretId) ?? secretId;
      return { arn: secretId.startsWith('arn:') ? secretId : '', name, tags: {}, deleted: true, readAt };
    }
    const base = {
      arn: described.ARN!,
      name: described.Name!,
      description: described.Description,
      tags: userTags(described.Tags),
      readAt,
    };
    if (described.DeletedDate) return { ...base, deleted: true };
    // AWSCURRENT is the default; naming it also keeps emulators that track a separate default honest.
    const got = await client.send(new GetSecretValueCommand({ SecretId: described.ARN!, VersionStage: 'AWSCURRENT' }));
    return {
      ...base,
      deleted: false,
      versionId: got.VersionId,
      versionCreatedAt: got.CreatedDate,
      value: toValue(got.SecretString, got.SecretBinary),
    };
  }

  private async readAllPrimaries(): Promise<PrimarySecret[]> {
    const client = this.primaryClient();
    const readAt = this.now();
    const listed: SecretListEntry[] = [];
    const filters = primaryListFilters(this.settings.selection);
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListSecretsCommand({
        MaxResults: LIST_PAGE_SIZE, NextToken: nextToken, IncludePlannedDeletion: true, Filters: filters,
      }));
      for (const entry of page.SecretList ?? []) {
        if (entry.ARN === this.settings.provenanceKeySecretArn) continue;
        if (isSelected(this.settings.selection, { name: entry.Name!, arn: entry.ARN!, tags: userTags(entry.Tags) })) listed.push(entry);
      }
      nextToken = page.NextToken;
    } while (nextToken);

    const live = listed.filter((e) => !e.DeletedDate);
    const values = new Map<string, { versionId?: string; createdAt?: Date; value?: SecretValue }>();
    const readErrors = new Map<string, string>();
    for (const ids of chunk(live.map((e) => e.ARN!), BATCH_GET_SIZE)) {
      const batch = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ids }));
      for (const v of batch.SecretValues ?? []) {
        values.set(v.ARN!, { versionId: v.VersionId, createdAt: v.CreatedDate, value: toValue(v.SecretString, v.SecretBinary) });
      }
      for (const err of batch.Errors ?? []) {
        readErrors.set(err.SecretId!, err.ErrorCode ?? 'Error');
      }
    }
    return listed.map((entry) => {
      const v = values.get(entry.ARN!);
      const deleted = Boolean(entry.DeletedDate);
      return {
        arn: entry.ARN!,
        name: entry.Name!,
        description: entry.Description,
        tags: userTags(entry.Tags),
        readAt,
        deleted,
        versionId: v?.versionId,
        versionCreatedAt: v?.createdAt,
        value: v?.value,
        ...(!deleted && !v ? { readError: readErrors.get(entry.ARN!) ?? readErrors.get(entry.Name!) ?? 'MissingFromBatch' } : {}),
      };
    });
  }

  /** Replicas this deployment manages in a target, by name (one ListSecrets page per 100). */
  private async listManagedReplicas(target: ReplicaTargetConfig): Promise<Map<string, ReplicaState>> {
    const client = this.targetClient(target);
    const replicas = new Map<string, ReplicaState>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListSecretsCommand({
        MaxResults: LIST_PAGE_SIZE,
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
          deleted: Boolean(entry.DeletedDate),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return replicas;
  }

  /** DescribeSecret in a target; `undefined` when there is no such secret. */
  async describeReplica(target: ReplicaTargetConfig, name: string): Promise<ReplicaState | undefined> {
    try {
      const d = await this.targetClient(target).send(new DescribeSecretCommand({ SecretId: name }));
      return {
        arn: d.ARN!,
        description: d.Description,
        tags: tagMap(d.Tags),
        currentVersionId: currentVersion(d.VersionIdsToStages),
        deleted: Boolean(d.DeletedDate),
      };
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }
}

/** Alias of the AWS managed key, passed when a replica goes back to the default key. */
const DEFAULT_KMS_KEY_ALIAS = 'alias/aws/secretsmanager';

/** ListSecrets accepts at most 10 values per filter. */
const MAX_FILTER_VALUES = 10;

/**
 * Server-side narrowing of the primary listing: when every rule names secrets or name prefixes, list
 * only those (the `name` filter is a case-insensitive prefix match, so `isSelected` still decides).
 * Rules by ARN or by tags alone cannot be expressed as one name filter: then list everything.
 */
export function primaryListFilters(selection: SelectionConfig): Array<{ Key: 'name'; Values: string[] }> | undefined {
  const names: string[] = [];
  for (const rule of selection.rules) {
    const identities = [...(rule.names ?? []), ...(rule.namePrefixes ?? [])];
    if (identities.length === 0 || (rule.arns?.length ?? 0) > 0) return undefined;
    names.push(...identities);
  }
  const values = [...new Set(names)];
  return values.length > 0 && values.length <= MAX_FILTER_VALUES ? [{ Key: 'name', Values: values }] : undefined;
}

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

function valueFields(value: SecretValue): { SecretString?: string; SecretBinary?: Uint8Array } {
  return value.kind === 'string' ? { SecretString: value.secretString } : { SecretBinary: value.secretBinary };
}

export function toValue(secretString: string | undefined, secretBinary: Uint8Array | undefined): SecretValue | undefined {
  if (secretString !== undefined) return { kind: 'string', secretString };
  if (secretBinary !== undefined) return { kind: 'binary', secretBinary };
  return undefined;
}

export function tagMap(tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** The primary's own tags: without AWS-reserved ones and without provenance tags. */
export function userTags(tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tagMap(tags)).filter(([k]) => !k.startsWith('aws:') && !k.startsWith(PROVENANCE_TAG_PREFIX)));
}

export function currentVersion(stages: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(stages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
}

function isScheduledForDeletion(error: unknown): boolean {
  const e = error as Error;
  return e.name === 'InvalidRequestException' && /scheduled for deletion/i.test(e.message ?? '');
}

function accountOf(roleArn: string): string | undefined {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1];
}
