import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { BatchGetSecretValueCommand, ListSecretsCommand, SecretListEntry, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RunDigest } from './digest';
import { Inventory, Item, Location, ReadFailure, Scope } from './model';
import type { ReplicaTargetConfig, SelectionConfig } from '../../../src/core/comparison-contract';
import { ClientCache } from '../clients';
import { chunk, mapSettled } from '../concurrency';
import { BATCH_GET_SECRET_VALUE_SIZE, DEFAULT_SECRETS_KEY_ALIAS, LIST_SECRETS_PAGE_SIZE } from '../secrets/limits';
import { userTags } from '../secrets/provenance';
import type { PrimarySecret, ReplicaState } from '../secrets/replicator';
import { isSelected, primaryListFilters } from '../secrets/selection';
import { currentVersion, tagMap, toValue } from '../secrets/values';

/** BatchGetSecretValue calls in flight per region. */
const BATCH_CONCURRENCY = 4;
/** The AWS managed key, as recorded when a secret names no key. */
export const DEFAULT_SECRETS_KEY = DEFAULT_SECRETS_KEY_ALIAS;

/** What the secrets scope needs. */
export interface SecretsScopeOptions {
  readonly clients: ClientCache;
  readonly primaryRegion: string;
  readonly targets: readonly ReplicaTargetConfig[];
  readonly selection: SelectionConfig;
  readonly comparedTagKeys: readonly string[];
  readonly digest: RunDigest;
  /** Keep the primary's values (and the replicas' state) in memory for auto-remediation. */
  readonly keepForRemediation: boolean;
  /** Secrets never compared (the replicator's provenance key). */
  readonly excludedArns: ReadonlySet<string>;
  readonly now: () => Date;
}

/** The state auto-remediation copies from: the replication engine's types. */
export interface SecretSource {
  readonly primary?: PrimarySecret;
  readonly replica?: ReplicaState;
}

/**
 * The selected secrets: ListSecrets (100 a page, narrowed by name where the selection allows) and
 * BatchGetSecretValue (20 a call) in each region. Metadata compared: the KMS key (against the key
 * the replica region is expected to use) and the selected tags (against the primary's).
 */
export class SecretsScope implements Scope {
  readonly kind = 'secret' as const;
  readonly label = 'secrets';
  /** A replica's values are only read for the names the primary has. */
  readonly replicaReadNeedsPrimaryNames = true;
  readonly primary: Location;
  readonly replicas: Location[];
  private readonly filters: ReturnType<typeof primaryListFilters>;
  private readonly resolvedAliases = new Map<string, Promise<string | undefined>>();

  constructor(private readonly options: SecretsScopeOptions) {
    this.primary = { region: options.primaryRegion };
    this.replicas = options.targets.map((t) => ({ region: t.region }));
    this.filters = primaryListFilters(options.selection);
  }

  async read(location: Location, role: 'primary' | 'replica', primaryNames?: ReadonlySet<string>): Promise<Inventory> {
    const client = this.options.clients.get(SecretsManagerClient, { region: location.region });
    const listed: SecretListEntry[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListSecretsCommand({ MaxResults: LIST_SECRETS_PAGE_SIZE, NextToken: nextToken, Filters: this.filters }));
      for (const entry of page.SecretList ?? []) {
        if (this.options.excludedArns.has(entry.ARN!)) continue;
        const known = primaryNames?.has(entry.Name!) ?? false;
        if (known || isSelected(this.options.selection, { name: entry.Name!, arn: entry.ARN!, tags: userTags(entry.Tags) })) listed.push(entry);
      }
      nextToken = page.NextToken;
    } while (nextToken);

    // A replica secret the primary lacks is only reported as extra: its value is not needed.
    const toRead = role === 'primary' ? listed : listed.filter((e) => primaryNames?.has(e.Name!));
    const values = new Map<string, { digest: string; kind: 'string' | 'binary'; versionId?: string; createdAt?: Date; value?: ReturnType<typeof toValue> }>();
    const itemFailures = new Map<string, ReadFailure>();
    const byArn = new Map(toRead.map((e) => [e.ARN!, e.Name!]));
    const batches = await mapSettled(chunk(toRead.map((e) => e.ARN!), BATCH_GET_SECRET_VALUE_SIZE), BATCH_CONCURRENCY, async (ids) => {
      const batch = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ids }));
      for (const v of batch.SecretValues ?? []) {
        const value = toValue(v.SecretString, v.SecretBinary);
        if (!value) continue;
        values.set(v.ARN!, {
          digest: this.options.digest.ofSecret(value),
          kind: value.kind,
          versionId: v.VersionId,
          createdAt: v.CreatedDate,
          ...(this.options.keepForRemediation && role === 'primary' ? { value } : {}),
        });
      }
      for (const err of batch.Errors ?? []) {
        const name = byArn.get(err.SecretId!) ?? err.SecretId!;
        itemFailures.set(name, { errorName: err.ErrorCode ?? 'Error' });
      }
    });
    const failedBatch = batches.find((b) => b.status === 'rejected');
    if (failedBatch) throw (failedBatch as PromiseRejectedResult).reason;

    const expectedKey = this.options.targets.find((t) => t.region === location.region)?.kmsKeyId;
    const items = new Map<string, Item>();
    for (const entry of listed) {
      const read = values.get(entry.ARN!);
      const needed = role === 'primary' || primaryNames?.has(entry.Name!);
      if (needed && !read) {
        if (!itemFailures.has(entry.Name!)) itemFailures.set(entry.Name!, { errorName: 'MissingFromBatch' });
        continue;
      }
      const tags = tagMap(entry.Tags);
      let kmsKey: string;
      try {
        kmsKey = await this.normalizedKey(location.region, entry.KmsKeyId, role === 'replica' ? expectedKey : undefined);
      } catch (e) {
        // Unresolvable key forms are an item that could not be compared, not a mismatch.
        itemFailures.set(entry.Name!, { errorName: `KmsKey${(e as Error).name ?? 'Error'}` });
        continue;
      }
      const metadata: Record<string, string> = { kmsKey };
      for (const key of this.options.comparedTagKeys) metadata[`tag:${key}`] = tags[key] ?? '';
      const source: SecretSource | undefined = !this.options.keepForRemediation ? undefined : role === 'primary'
        ? {
          primary: {
            arn: entry.ARN!,
            name: entry.Name!,
            description: entry.Description,
            tags: userTags(entry.Tags),
            deleted: false,
            versionId: read!.versionId,
            versionCreatedAt: read!.createdAt,
            value: read!.value,
            readAt: this.options.now(),
          },
        }
        : {
          replica: {
            arn: entry.ARN!,
            description: entry.Description,
            tags,
            currentVersionId: currentVersion(entry.SecretVersionsToStages),
            deleted: false,
          },
        };
      items.set(entry.Name!, {
        kind: 'secret',
        name: entry.Name!,
        digest: read?.digest ?? '',
        ...(read ? { valueKind: read.kind } : {}),
        metadata,
        ...(entry.LastChangedDate ? { changedAt: entry.LastChangedDate } : {}),
        ...(source ? { source } : {}),
      });
    }
    return { items, itemFailures };
  }

  /** The KMS key a replica in `region` is expected to use. */
  expectedMetadata(primary: Item, location: Location): Record<string, string> {
    const expectedKey = this.options.targets.find((t) => t.region === location.region)?.kmsKeyId ?? DEFAULT_SECRETS_KEY;
    return { ...primary.metadata, kmsKey: expectedKey };
  }

  /**
   * The key a secret uses, written the way the expected key is written when they are the same key:
   * Secrets Manager reports a key as given (ARN, key id, alias name or alias ARN), so an alias is
   * resolved to its key (one DescribeKey per region and alias, cached) only when the forms differ.
   */
  private async normalizedKey(region: string, actual: string | undefined, expected: string | undefined): Promise<string> {
    if (actual === undefined || actual === DEFAULT_SECRETS_KEY || actual.endsWith(`:${DEFAULT_SECRETS_KEY}`)) return DEFAULT_SECRETS_KEY;
    if (expected === undefined || actual === expected) return actual;
    if (expected.startsWith('alias/') && actual.endsWith(`:${expected}`)) return expected;
    const keyId = (k: string) => /key\/([^/]+)$/.exec(k)?.[1] ?? k;
    if (!expected.startsWith('alias/') && !actual.startsWith('alias/') && !actual.includes(':alias/')) {
      return keyId(actual) === keyId(expected) ? expected : actual;
    }
    // One side is an alias and the other a key: compare the keys behind them.
    const [a, e] = await Promise.all([this.keyArn(region, actual), this.keyArn(region, expected)]);
    return a !== undefined && a === e ? expected : actual;
  }

  /** The ARN of a key given in any form; rejects (once per form and region) when DescribeKey fails. */
  private keyArn(region: string, keyId: string): Promise<string | undefined> {
    if (/^arn:[^:]+:kms:[^:]+:\d+:key\//.test(keyId)) return Promise.resolve(keyId);
    const cacheKey = `${region}|${keyId}`;
    let resolved = this.resolvedAliases.get(cacheKey);
    if (!resolved) {
      resolved = this.options.clients.get(KMSClient, { region }).send(new DescribeKeyCommand({ KeyId: keyId }))
        .then((d) => d.KeyMetadata?.Arn);
      this.resolvedAliases.set(cacheKey, resolved);
    }
    return resolved;
  }
}
