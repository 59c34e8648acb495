import { GetParametersByPathCommand, Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { RunDigest } from './digest';
import { Inventory, Item, Location, ReadFailure, Scope } from './model';
import { ClientCache } from '../shared/clients';

/** GetParametersByPath page size: the API maximum. */
const PAGE_SIZE = 10;

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

  constructor(private readonly options: ParametersScopeOptions) {
    this.label = options.path;
    this.primary = { region: options.primaryRegion };
    this.replicas = options.replicaRegions.map((region) => ({ region }));
  }

  async read(location: Location, role: 'primary' | 'replica'): Promise<Inventory> {
    const client = this.options.clients.get(SSMClient, { region: location.region });
    const items = new Map<string, Item>();
    const itemFailures = new Map<string, ReadFailure>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(new GetParametersByPathCommand({
        Path: this.options.path, Recursive: true, WithDecryption: true, MaxResults: PAGE_SIZE, NextToken: nextToken,
      }));
      for (const p of page.Parameters ?? []) {
        if (!p.Name || this.options.excludedNames.has(p.Name)) continue;
        items.set(p.Name, this.item(p, role));
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return { items, itemFailures };
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
