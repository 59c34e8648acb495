import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterReplicaTargetConfig } from '../../src/parameter-replicator/contract';
import { ClientCache } from '../shared/clients';
import { CheckResult, connectivityReport as report, RegionReport, timed } from '../shared/connectivity';

export type { CheckResult, RegionReport } from '../shared/connectivity';

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
  return report(clients, primaryRegion, targets, provenanceKeySecretArn, async (target) => {
    const ssm = clients.get(SSMClient, target);
    const checks: CheckResult[] = [];
    for (const path of paths) {
      checks.push(await timed(`ssm:GetParametersByPath ${path}`, () => ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, MaxResults: 1 }))));
    }
    return checks;
  });
}
