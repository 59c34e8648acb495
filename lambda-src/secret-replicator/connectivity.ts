import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ReplicaTargetConfig } from '../../src/secret-replicator/contract';
import { ClientCache } from '../shared/clients';
import { connectivityReport as report, RegionReport, timed } from '../shared/connectivity';

export type { CheckResult, RegionReport } from '../shared/connectivity';

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
  return report(clients, primaryRegion, targets, provenanceKeySecretArn, async (target) => [
    await timed('secretsmanager:ListSecrets', () => clients.get(SecretsManagerClient, target).send(new ListSecretsCommand({ MaxResults: 1 }))),
  ]);
}
