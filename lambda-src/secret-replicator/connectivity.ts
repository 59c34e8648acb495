import { DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ReplicaTargetConfig } from '../../src/secret-replicator/contract';
import { ClientCache, ClientTarget } from '../shared/clients';
import { errorFields } from '../shared/observability';

/** One check against one region. */
export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly errorName?: string;
}

/** Reachability and permissions of one region (and account). */
export interface RegionReport {
  readonly region: string;
  readonly role: 'primary' | 'replica';
  readonly roleArn?: string;
  readonly account?: string;
  readonly reachable: boolean;
  readonly checks: readonly CheckResult[];
}

async function timed(check: string, fn: () => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  try {
    await fn();
    return { check, ok: true, latencyMs: Date.now() - started };
  } catch (e) {
    return { check, ok: false, latencyMs: Date.now() - started, errorName: errorFields(e).errorName };
  }
}

/**
 * The `{"action":"connectivity_test"}` report: for the primary and each target, whether STS and
 * Secrets Manager answer (reachability), which account the credentials land in, and whether the
 * role may list secrets there and read the provenance key in the primary (permissions).
 */
export async function connectivityReport(
  clients: ClientCache,
  primaryRegion: string,
  targets: readonly ReplicaTargetConfig[],
  provenanceKeySecretArn: string,
): Promise<RegionReport[]> {
  const probe = async (target: ClientTarget, role: 'primary' | 'replica'): Promise<RegionReport> => {
    let account: string | undefined;
    const identity = await timed('sts:GetCallerIdentity', async () => {
      account = (await clients.get(STSClient, target).send(new GetCallerIdentityCommand({}))).Account;
    });
    const sm = clients.get(SecretsManagerClient, target);
    const checks = [
      identity,
      await timed('secretsmanager:ListSecrets', () => sm.send(new ListSecretsCommand({ MaxResults: 1 }))),
      ...(role === 'primary'
        ? [await timed('secretsmanager:DescribeSecret (provenance key)', () => sm.send(new DescribeSecretCommand({ SecretId: provenanceKeySecretArn })))]
        : []),
    ];
    return {
      region: target.region,
      role,
      ...(target.roleArn ? { roleArn: target.roleArn } : {}),
      ...(account ? { account } : {}),
      reachable: checks.some((c) => c.ok || (c.errorName !== undefined && !isNetworkError(c.errorName))),
      checks,
    };
  };
  return Promise.all([probe({ region: primaryRegion }, 'primary'), ...targets.map((t) => probe(t, 'replica'))]);
}

/** Error names of failures where the service never answered. */
function isNetworkError(name: string): boolean {
  return ['TimeoutError', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'Error'].includes(name);
}
