import { AddTagsToResourceCommand, PutParameterCommand, ParameterType, SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterReplicaKeyConfig, RemediationModeName, ReplicaTargetConfig } from '../../src/drift-detector/contract';
import { CONFIGMAP_FIELD_MANAGER } from '../../src/drift-detector/contract';
import { ClientCache } from '../shared/clients';
import { ConfigMapSource, ConfigMapsScope } from '../shared/comparison/configmaps';
import { IgnoreRules } from '../shared/comparison/ignore';
import { Drift, Item, Location, RemediationStatus, Scope } from '../shared/comparison/model';
import { ParameterSource, ParametersScope } from '../shared/comparison/parameters';
import { SecretSource } from '../shared/comparison/secrets';
import { mapSettled } from '../shared/concurrency';
import { KubernetesAccess } from '../shared/kubernetes';
import { errorFields, logger } from '../shared/observability';
import { ProvenanceTag } from '../shared/secrets/provenance';
import { Outcome, SecretReplicator } from '../shared/secrets/replicator';

/** Repairs in flight at once (across regions); well under per-region write quotas. */
const REPAIR_CONCURRENCY = 8;

/** One drifted (item, replica location) pair and what the scan read for it. */
export interface RepairTarget {
  readonly scope: Scope;
  readonly location: Location;
  readonly primary?: Item;
  readonly replica?: Item;
  /** Every drift of this pair (a value and a metadata drift are repaired by one copy). */
  readonly drifts: Drift[];
}

/** What the remediator needs. */
export interface RemediatorOptions {
  readonly clients: ClientCache;
  readonly mode: RemediationModeName;
  readonly primaryRegion: string;
  readonly targets: readonly ReplicaTargetConfig[];
  /**
   * The KMS key SecureString replicas are written with, per region. Absent (or without an entry for
   * a region): unknown, and SecureString replicas there are not written.
   */
  readonly parameterReplicaKeys?: readonly ParameterReplicaKeyConfig[];
  readonly ignore: IgnoreRules;
  /** The shared replication engine (lambda-src/shared/secrets), for secrets; absent when secrets are not scanned. */
  readonly replicator?: () => Promise<SecretReplicator>;
  readonly kubernetes?: KubernetesAccess;
  readonly now: () => Date;
}

/** Error name of a SecureString repair refused because the replica region's key is not known. */
export const SECURE_STRING_KEY_UNKNOWN = 'SecureStringKeyUnknown';

const REPAIRED_OUTCOMES: ReadonlySet<Outcome> = new Set<Outcome>(['created', 'updated', 'metadata-updated', 'conflict-overwritten', 'in-sync']);
const DRY_RUN_OUTCOMES: ReadonlySet<Outcome> = new Set<Outcome>(['would-create', 'would-update']);

/**
 * Opt-in auto-remediation: copies the primary's value (or a parameter's declared per-region value) to a drifted replica. Secrets go through the
 * replication engine's `apply`, the one the secret replicator runs (same provenance tags, idempotent
 * version ids, primary wins); parameters are overwritten and tagged with their source region;
 * ConfigMaps are server-side applied under this library's field manager (keys of other managers are
 * kept, conflicts are not forced). Items only in a replica and unreadable items are never touched.
 */
export class Remediator {
  constructor(private readonly options: RemediatorOptions) {}

  /** Repairs (or, in DRY_RUN, checks) every pair; records the status on each of its drifts. */
  async repair(targets: readonly RepairTarget[]): Promise<void> {
    const dryRun = this.options.mode === 'DRY_RUN';
    const settled = await mapSettled(targets, REPAIR_CONCURRENCY, (t) => this.repairOne(t, dryRun));
    settled.forEach((s, i) => {
      const target = targets[i];
      let status: { status: RemediationStatus; errorName?: string };
      if (s.status === 'fulfilled') {
        status = { status: s.value };
      } else {
        const fields = errorFields(s.reason);
        // A Kubernetes error's reason (Conflict, Forbidden) says more than its class name.
        const reason = (s.reason as { reason?: unknown })?.reason;
        const errorName = typeof reason === 'string' && reason !== '' ? reason : fields.errorName;
        logger.error('auto-remediation failed', {
          kind: target.scope.kind,
          name: target.drifts[0].name,
          region: target.location.region,
          cluster: target.location.cluster,
          ...fields,
          errorName,
        });
        status = { status: 'failed', errorName };
      }
      for (const drift of target.drifts) drift.autoRemediation = status;
    });
  }

  private async repairOne(t: RepairTarget, dryRun: boolean): Promise<RemediationStatus> {
    const remediable = t.primary && t.drifts.every((d) => ['MISSING_IN_REPLICA', 'VALUE_MISMATCH', 'METADATA_MISMATCH'].includes(d.driftType));
    if (!remediable) return 'not-remediable';
    // Keys only in a replica's ConfigMap are not ours to remove: an apply would change nothing.
    const onlyExtraKeys = t.drifts.every((d) => d.details?.length && d.details.every((x) => x.change === 'extra'));
    if (t.scope.kind === 'configmap' && onlyExtraKeys) return 'not-remediable';
    switch (t.scope.kind) {
      case 'secret': return this.repairSecret(t, dryRun);
      case 'parameter': return this.repairParameter(t, dryRun);
      case 'configmap': return this.repairConfigMap(t, dryRun);
    }
  }

  private async repairSecret(t: RepairTarget, dryRun: boolean): Promise<RemediationStatus> {
    const target = this.options.targets.find((x) => x.region === t.location.region && !x.roleArn);
    const primary = (t.primary!.source as SecretSource | undefined)?.primary;
    if (!target || !primary || !this.options.replicator) return 'not-remediable';
    let replica = (t.replica?.source as SecretSource | undefined)?.replica;
    if (replica && t.drifts.some((d) => d.details?.some((x) => x.field === 'kmsKey'))) {
      // The key was changed behind the replicator's back; its provenance tag would call the copy current.
      const { [ProvenanceTag.KMS_KEY]: _, ...tags } = replica.tags;
      replica = { ...replica, tags };
    }
    const result = await (await this.options.replicator()).apply(primary, target, replica, dryRun);
    if (result.outcome === 'failed') throw Object.assign(new Error('replica write failed'), { name: result.errorName ?? 'Error' });
    if (DRY_RUN_OUTCOMES.has(result.outcome)) return 'would-repair';
    return REPAIRED_OUTCOMES.has(result.outcome) ? 'repaired' : 'skipped';
  }

  private async repairParameter(t: RepairTarget, dryRun: boolean): Promise<RemediationStatus> {
    const source = t.primary!.source as ParameterSource | undefined;
    if (!source) return 'not-remediable';
    const region = t.location.region;
    // A SecureString replica is written with its region's configured key: PutParameter without a
    // KeyId would encrypt it with aws/ssm, silently replacing a customer managed key. When the key
    // is not known, the replica is left as it is and the repair fails (metered, value-free).
    const keyId = source.type === 'SecureString' ? this.options.parameterReplicaKeys?.find((k) => k.region === region)?.kmsKeyId : undefined;
    if (source.type === 'SecureString' && keyId === undefined) {
      logger.warn('SecureString replica not repaired: the KMS key of its region is unknown', {
        name: t.primary!.name,
        region,
        reason: 'link the parameter replicator (parameterReplicator) or give parameterReplicaKmsKeys',
      });
      throw Object.assign(new Error(`the KMS key of SecureString replicas in ${region} is unknown`), { name: SECURE_STRING_KEY_UNKNOWN });
    }
    if (dryRun) return 'would-repair';
    const client = this.options.clients.get(SSMClient, { region });
    // A parameter with a declared value for this region gets that value, not the primary's.
    const override = t.scope instanceof ParametersScope ? t.scope.overrideFor(t.primary!.name, region) : undefined;
    await client.send(new PutParameterCommand({
      Name: t.primary!.name,
      Value: override ?? source.value,
      Type: source.type as ParameterType,
      ...(keyId !== undefined ? { KeyId: keyId } : {}),
      ...(source.dataType ? { DataType: source.dataType } : {}),
      Overwrite: true,
      // Intelligent-Tiering picks Advanced only for values over 4 KB, as the primary must have.
      Tier: 'Intelligent-Tiering',
    }));
    await client.send(new AddTagsToResourceCommand({
      ResourceType: 'Parameter',
      ResourceId: t.primary!.name,
      Tags: [
        { Key: ProvenanceTag.SOURCE_REGION, Value: this.options.primaryRegion },
        { Key: ProvenanceTag.SYNCED_AT, Value: this.options.now().toISOString() },
      ],
    }));
    logger.info('parameter repaired', {
      name: t.primary!.name, region, declaredOverride: override !== undefined, ...(keyId !== undefined ? { kmsKeyId: keyId } : {}),
    });
    return 'repaired';
  }

  private async repairConfigMap(t: RepairTarget, dryRun: boolean): Promise<RemediationStatus> {
    const source = t.primary!.source as ConfigMapSource | undefined;
    const scope = t.scope as ConfigMapsScope;
    if (!source || !this.options.kubernetes) return 'not-remediable';
    const [namespace, name] = [scope.namespace, t.primary!.name.slice(scope.namespace.length + 1)];
    const data = Object.fromEntries(Object.entries(source.data)
      .filter(([key]) => !this.options.ignore.ignoresKey('configmap', t.primary!.name, key, t.location.region)));
    const client = await this.options.kubernetes.client(scope.cluster(t.location));
    // The API server checks a dry run too (permissions, conflicts with other field managers).
    await client.applyConfigMap({ namespace, name, data, fieldManager: CONFIGMAP_FIELD_MANAGER, force: false, dryRun });
    if (dryRun) return 'would-repair';
    logger.info('configmap repaired', { name: t.primary!.name, region: t.location.region, cluster: t.location.cluster });
    return 'repaired';
  }
}
