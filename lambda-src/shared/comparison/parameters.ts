import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { RunDigest } from './digest';
import { Inventory, Item, Location, ReadFailure, Scope } from './model';
import type { ParameterOverrideConfig } from '../../../src/core/comparison-contract';
import { ClientCache } from '../clients';
import { chunk } from '../concurrency';
import { errorFields, logger } from '../observability';
import { isSettingsParameter } from '../settings';

/** GetParametersByPath page size: the API maximum. */
const PAGE_SIZE = 10;
/** GetParameters takes at most 10 names per call. */
const GET_PARAMETERS_SIZE = 10;

/** What a parameter scope needs. */
export interface ParametersScopeOptions {
  readonly clients: ClientCache;
  readonly primaryRegion: string;
  readonly replicaRegions: readonly string[];
  /** Path prefix, such as `/app/prod`: every parameter below it, recursively. */
  readonly path: string;
  readonly digest: RunDigest;
  readonly keepForRemediation: boolean;
  /** Parameter names never compared. */
  readonly excludedNames: ReadonlySet<string>;
  /**
   * Declared per-region values: in its region, a replica of the named parameter is expected to
   * hold the override instead of the primary's value.
   *
   * @default - none: every replica is expected to hold the primary's value
   */
  readonly overrides?: readonly ParameterOverrideConfig[];
}

/** The state auto-remediation copies: the primary parameter as read (memory only). */
export interface ParameterSource {
  readonly value: string;
  readonly type: string;
  readonly dataType?: string;
}

/**
 * The parameters under one path, recursively: GetParametersByPath (10 a page) with decryption, so a
 * SecureString is compared by a keyed digest of its plaintext, which exists in memory only. Metadata
 * compared: the type and the data type. (GetParametersByPath does not return a SecureString's KMS
 * key or a parameter's tags; reading them would cost one call per parameter.)
 */
export class ParametersScope implements Scope {
  readonly kind = 'parameter' as const;
  readonly replicaReadNeedsPrimaryNames = false;
  readonly label: string;
  readonly primary: Location;
  readonly replicas: Location[];

  /** Override values by region, then parameter name (memory only). */
  private readonly overrides = new Map<string, Map<string, string>>();
  /** Digests of the override values, computed once per scan. */
  private readonly overrideDigests = new Map<string, string>();

  constructor(private readonly options: ParametersScopeOptions) {
    this.label = options.path;
    this.primary = { region: options.primaryRegion };
    this.replicas = options.replicaRegions.map((region) => ({ region }));
    for (const o of options.overrides ?? []) {
      const byName = this.overrides.get(o.region) ?? new Map<string, string>();
      byName.set(o.name, o.value);
      this.overrides.set(o.region, byName);
    }
  }

  /** The value declared for parameter `name` in `region`, if any: what remediation writes there instead of the primary's. */
  overrideFor(name: string, region: string): string | undefined {
    return this.overrides.get(region)?.get(name);
  }

  expectedDigest(primary: Item, location: Location): string | undefined {
    const value = this.overrideFor(primary.name, location.region);
    if (value === undefined) return undefined;
    const key = `${location.region}\u0000${primary.name}`;
    let digest = this.overrideDigests.get(key);
    if (digest === undefined) {
      digest = this.options.digest.ofString(value);
      this.overrideDigests.set(key, digest);
    }
    return digest;
  }

  async read(location: Location, role: 'primary' | 'replica'): Promise<Inventory> {
    const client = this.options.clients.get(SSMClient, { region: location.region });
    try {
      return await this.readPath(client, role);
    } catch (e) {
      // One SecureString the role may not decrypt fails the whole decrypting listing: list without
      // decryption, then decrypt the SecureStrings in batches (and one by one where a batch fails),
      // so only that parameter is reported as unreadable.
      if ((e as Error).name !== 'AccessDeniedException') throw e;
      logger.warn('parameters could not all be decrypted; reading them one batch at a time', {
        path: this.options.path, region: location.region, ...errorFields(e),
      });
      return this.readItemByItem(client, role);
    }
  }

  /** Every parameter below the path, decrypted: ⌈M/10⌉ calls. */
  private async readPath(client: SSMClient, role: 'primary' | 'replica'): Promise<Inventory> {
    const items = new Map<string, Item>();
    for (const p of await this.list(client, true)) items.set(p.Name!, this.item(p, role));
    return { items, itemFailures: new Map() };
  }

  private async readItemByItem(client: SSMClient, role: 'primary' | 'replica'): Promise<Inventory> {
    const items = new Map<string, Item>();
    const itemFailures = new Map<string, ReadFailure>();
    const listed = await this.list(client, false);
    const secure = listed.filter((p) => p.Type === 'SecureString').map((p) => p.Name!);
    for (const p of listed) if (p.Type !== 'SecureString') items.set(p.Name!, this.item(p, role));
    for (const names of chunk(secure, GET_PARAMETERS_SIZE)) {
      let decrypted: Parameter[];
      try {
        decrypted = (await client.send(new GetParametersCommand({ Names: names, WithDecryption: true }))).Parameters ?? [];
      } catch {
        decrypted = [];
        for (const name of names) {
          try {
            const got = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
            if (got.Parameter) decrypted.push(got.Parameter);
          } catch (e) {
            itemFailures.set(name, { errorName: errorFields(e).errorName });
          }
        }
      }
      for (const p of decrypted) items.set(p.Name!, this.item(p, role));
    }
    return { items, itemFailures };
  }

  private async list(client: SSMClient, withDecryption: boolean): Promise<Parameter[]> {
    const listed: Parameter[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new GetParametersByPathCommand({
        Path: this.options.path, Recursive: true, WithDecryption: withDecryption, MaxResults: PAGE_SIZE, NextToken: nextToken,
      }));
      for (const p of page.Parameters ?? []) {
        // This library's settings documents are never compared (each region's are its own).
        if (p.Name && !this.options.excludedNames.has(p.Name) && !isSettingsParameter(p.Name)) listed.push(p);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return listed;
  }

  expectedMetadata(primary: Item): Record<string, string> {
    return { ...primary.metadata };
  }

  private item(p: Parameter, role: 'primary' | 'replica'): Item {
    const source: ParameterSource | undefined = this.options.keepForRemediation && role === 'primary'
      ? { value: p.Value ?? '', type: p.Type ?? 'String', ...(p.DataType ? { dataType: p.DataType } : {}) }
      : undefined;
    return {
      kind: 'parameter',
      name: p.Name!,
      digest: this.options.digest.ofString(p.Value ?? ''),
      metadata: { type: p.Type ?? 'String', dataType: p.DataType ?? 'text' },
      ...(p.LastModifiedDate ? { changedAt: p.LastModifiedDate } : {}),
      ...(source ? { source } : {}),
    };
  }
}
