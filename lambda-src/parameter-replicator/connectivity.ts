import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ParameterReplicaTargetConfig } from '../../src/parameter-replicator/contract';
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
 * The `{"action":"connectivity_test"}` report: for the primary and each replica region, whether
 * STS and Parameter Store answer, which account the credentials land in, whether the role may
 * list each selected path there (one parameter, not decrypted), and whether it may read the
 * provenance key in the primary. Nothing is written.
 */
export async function connectivityReport(
  clients: ClientCache,
  primaryRegion: string,
  targets: readonly ParameterReplicaTargetConfig[],
  paths: readonly string[],
  provenanceKeySecretArn: string,
): Promise<RegionReport[]> {
  const probe = async (target: ClientTarget, role: 'primary' | 'replica'): Promise<RegionReport> => {
    let account: string | undefined;
    const identity = await timed('sts:GetCallerIdentity', async () => {
      account = (await clients.get(STSClient, target).send(new GetCallerIdentityCommand({}))).Account;
    });
    const ssm = clients.get(SSMClient, target);
    const checks = [identity];
    for (const path of paths) {
      checks.push(await timed(`ssm:GetParametersByPath ${path}`, () => ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, MaxResults: 1 }))));
    }
    if (role === 'primary') {
      checks.push(await timed('secretsmanager:DescribeSecret (provenance key)',
        () => clients.get(SecretsManagerClient, target).send(new DescribeSecretCommand({ SecretId: provenanceKeySecretArn }))));
    }
    return {
      region: target.region,
      role,
      ...(target.roleArn ? { roleArn: target.roleArn } : {}),
      ...(account ? { account } : {}),
      reachable: checks.some((c) => c.ok || (c.errorName !== undefined && !isNetworkError(c.errorName))),
      checks,
    };
  };
  return Promise.all([
    probe({ region: primaryRegion }, 'primary'),
    ...targets.map((t) => probe({ region: t.region, ...(t.roleArn ? { roleArn: t.roleArn } : {}) }, 'replica')),
  ]);
}

/** Error names of failures where the service never answered. */
function isNetworkError(name: string): boolean {
  return ['TimeoutError', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'Error'].includes(name);
}
