import { Token } from 'aws-cdk-lib';
import { ReplicaKmsKey } from './replica-kms-key';
import { fail, jsiiStructHint, partitionOf, structMembers, validatePattern, validateStructKeys } from '../private/validation';

/**
 * Validation of replica KMS keys, shared by the replicator and the drift detector (which expects
 * replicas to use the same keys). Internal; not exported from the package.
 */

const KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;
const ALIAS_NAME_PATTERN = /^alias\/[A-Za-z0-9/_-]+$/;
/** The members of `ReplicaKmsKey`: any other key (a Python dict's `key_arn`) fails. */
const REPLICA_KMS_KEY_MEMBERS = structMembers<ReplicaKmsKey>({ region: true, keyArn: true, aliasName: true });
/** Alias of the AWS managed key Secrets Manager uses by default; needs no IAM permission. */
export const SECRETS_MANAGER_MANAGED_ALIAS = 'alias/aws/secretsmanager';

/** Alias of the AWS managed key Parameter Store uses for SecureString parameters by default; needs no IAM permission. */
export const SSM_MANAGED_ALIAS = 'alias/aws/ssm';

/**
 * Validates `replicaKmsKeys` (or the prop named `propName`) against `replicaRegions`; returns the
 * keys by region. `managedAlias` is the one AWS managed key alias allowed: the service's own default key.
 */
export function validateReplicaKmsKeys(
  keys: ReplicaKmsKey[], replicaRegions: string[], managedAlias: string = SECRETS_MANAGER_MANAGED_ALIAS, propName: string = 'replicaKmsKeys',
): Map<string, ReplicaKmsKey> {
  const byRegion = new Map<string, ReplicaKmsKey>();
  keys.forEach((key, i) => {
    const prop = `${propName}[${i}]`;
    if (!Token.isUnresolved(key.region) && !replicaRegions.includes(key.region)) {
      fail(`${prop}.region`, `must be one of replicaRegions ${JSON.stringify(replicaRegions)}`, key.region);
    }
    if ((key.keyArn === undefined) === (key.aliasName === undefined)) {
      const hint = key.keyArn === undefined
        ? jsiiStructHint('ReplicaKmsKey', 'alias_name', 'ReplicaKmsKey(region="eu-west-1", alias_name="alias/secrets")')
        : '';
      fail(prop, `must set exactly one of keyArn and aliasName${hint}`, key);
    }
    // After the check above, so that a dict with only `alias_name` keeps its message.
    validateStructKeys(prop, 'ReplicaKmsKey', key, REPLICA_KMS_KEY_MEMBERS);
    validateKeyReference(prop, key.region, key.keyArn, key.aliasName, managedAlias);
    if (byRegion.has(key.region)) {
      fail(propName, 'must not name a region twice', keys.map((k) => k.region));
    }
    byRegion.set(key.region, key);
  });
  return byRegion;
}

/** Validates a key given as `keyArn` (a key ARN in `region`) or `aliasName` (`alias/...`). */
export function validateKeyReference(
  prop: string, region: string, keyArn: string | undefined, aliasName: string | undefined, managedAlias: string = SECRETS_MANAGER_MANAGED_ALIAS,
): void {
  if (keyArn !== undefined && !Token.isUnresolved(keyArn)) {
    const example = `"arn:${partitionOf(region) ?? 'aws'}:kms:${region}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"`;
    const match = KEY_ARN_PATTERN.exec(keyArn);
    if (!match || (!Token.isUnresolved(region) && match[1] !== region)) {
      fail(`${prop}.keyArn`, `must be the ARN of a KMS key in ${region} such as ${example}`, keyArn);
    }
  }
  if (aliasName !== undefined && !Token.isUnresolved(aliasName)) {
    validatePattern(`${prop}.aliasName`, aliasName, ALIAS_NAME_PATTERN, 'must be a KMS alias name starting with "alias/" such as "alias/secrets"');
    if (aliasName.startsWith('alias/aws/') && aliasName !== managedAlias) {
      fail(`${prop}.aliasName`, `must be a customer managed key alias or ${JSON.stringify(managedAlias)}`, aliasName);
    }
  }
}

