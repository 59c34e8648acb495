import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ClientCache, ClientTarget } from './clients';
import { errorFields } from './observability';

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

/** Runs `fn` as the check named `check`: its latency, and the error's name (never its message) when it fails. */
export async function timed(check: string, fn: () => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  try {
    await fn();
    return { check, ok: true, latencyMs: Date.now() - started };
  } catch (e) {
    return { check, ok: false, latencyMs: Date.now() - started, errorName: errorFields(e).errorName };
  }
}

/**
 * The `{"action":"connectivity_test"}` report of a replicating handler: for the primary and each
 * target, whether STS answers and which account the credentials land in, the handler's own
 * read-only checks of its service (`serviceChecks`, in order), and in the primary whether the role
 * may read the provenance key. A region is reachable when any service answered, even with an
 * error. Nothing is written.
 */
export async function connectivityReport(
  clients: ClientCache,
  primaryRegion: string,
  targets: readonly ClientTarget[],
  provenanceKeySecretArn: string,
  serviceChecks: (target: ClientTarget) => Promise<CheckResult[]>,
): Promise<RegionReport[]> {
  const probe = async (target: ClientTarget, role: 'primary' | 'replica'): Promise<RegionReport> => {
    let account: string | undefined;
    const checks = [await timed('sts:GetCallerIdentity', async () => {
      account = (await clients.get(STSClient, target).send(new GetCallerIdentityCommand({}))).Account;
    })];
    checks.push(...await serviceChecks(target));
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
