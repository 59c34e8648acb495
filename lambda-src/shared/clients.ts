import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { RetryStrategyV2 } from '@smithy/types';
import type { MiddlewareClient, Pacer } from './pacing';
import { paceClient } from './pacing';
import { JitteredRetryStrategy } from './retry';

/** Where a client talks to: a region, and optionally another account through a role. */
export interface ClientTarget {
  readonly region: string;
  /** Role to assume (cross-account); credentials are refreshed by the SDK before they expire. */
  readonly roleArn?: string;
}

/** The client configuration this cache passes; every AWS SDK v3 client accepts it. */
export interface CachedClientConfig {
  region: string;
  retryStrategy: RetryStrategyV2;
  credentials?: ReturnType<typeof fromTemporaryCredentials>;
}

type ClientConstructor<C> = new (config: CachedClientConfig) => C;

/**
 * One SDK client per (client type, region, role), created on first use and reused for the life of
 * the Lambda execution environment, so sockets and credentials are pooled across invocations.
 *
 * Everything else comes from the standard SDK configuration chain, so the handler honours
 * `AWS_ENDPOINT_URL` (and the service-specific variants), credentials from the environment,
 * `AWS_PROFILE` and so on: the same bundle runs against AWS or a local emulator unchanged.
 */
export class ClientCache {
  private readonly clients = new Map<string, unknown>();

  constructor(
    /** Region of the function; assumed roles are obtained through STS there. */
    private readonly homeRegion: string,
    /** Shared by every client so retries are counted in one place. */
    public readonly retryStrategy: JitteredRetryStrategy = new JitteredRetryStrategy(),
    /** Paces every client's calls to the documented quotas (see pacing.ts); none when undefined. */
    public readonly pacer?: Pacer,
  ) {}

  get<C>(type: ClientConstructor<C>, target: ClientTarget): C {
    const key = `${type.name}|${target.region}|${target.roleArn ?? ''}`;
    let client = this.clients.get(key) as C | undefined;
    if (!client) {
      client = new type({
        region: target.region,
        retryStrategy: this.retryStrategy,
        ...(target.roleArn
          ? {
            credentials: fromTemporaryCredentials({
              params: { RoleArn: target.roleArn, RoleSessionName: 'cross-region-config' },
              clientConfig: { region: this.homeRegion, retryStrategy: this.retryStrategy },
            }),
          }
          : {}),
      });
      // The signing name: `SecretsManagerClient` signs as `secretsmanager`, `SSMClient` as `ssm`. It
      // comes from the client's `serviceId` ("Secrets Manager", "SSM"): the class name does not
      // survive the bundles' minification.
      if (this.pacer) paceClient(client as unknown as MiddlewareClient, this.pacer, signingName(client, type), target.region);
      this.clients.set(key, client);
    }
    return client;
  }

  /** Number of distinct clients created (for tests and benchmarks). */
  get size(): number {
    return this.clients.size;
  }
}

/** The signing name of an SDK v3 client (`ssm`, `secretsmanager`), from its `serviceId`, else its class name. */
export function signingName(client: unknown, type: { readonly name: string }): string {
  const serviceId = (client as { config?: { serviceId?: unknown } }).config?.serviceId;
  return (typeof serviceId === 'string' && serviceId !== '' ? serviceId : type.name.replace(/Client$/, '')).replace(/\s+/g, '').toLowerCase();
}
