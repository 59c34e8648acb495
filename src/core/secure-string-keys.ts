import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IParameterReplicator } from './parameter-replicator-ref';
import { ReplicaKmsKey } from './replica-kms-key';
import { SSM_MANAGED_ALIAS } from './replica-kms-keys';
import { domainSuffixOf } from '../private/validation';

/**
 * The SecureString keys a reader of a parameter replicator's parameters (the drift detector, the
 * parity check) inherits from it, and the least-privilege statements that let it decrypt with them.
 * Internal; not exported from the package.
 */

/** The keys a reader inherits from a parameter replicator, without the ones it can already use. */
export interface InheritedParameterKeys {
  /** Keys of the primary SecureStrings. */
  readonly sourceKeys: kms.IKey[];
  /** Customer managed keys of the SecureString replicas in the compared regions (never `alias/aws/ssm`). */
  readonly replicaKeys: ReplicaKmsKey[];
}

/** What the reader already decrypts with through Parameter Store, so inherited keys do not repeat it. */
export interface GrantedKeys {
  /** Regions the reader compares with the primary; inherited replica keys of other regions are left out. */
  readonly regions: string[];
  /** Source keys the reader decrypts with through Parameter Store in the primary region. */
  readonly sourceKeys: kms.IKey[];
  /** Key ARNs the reader decrypts with through Parameter Store in any region (`encryptionKeyArns`). */
  readonly keyArns: string[];
  /** Replica keys the reader decrypts with through Parameter Store in their region (the drift detector's `parameterReplicaKmsKeys`). */
  readonly replicaKeys?: ReplicaKmsKey[];
}

/**
 * The keys of `replicator`'s SecureStrings that a reader comparing `granted.regions` needs besides
 * those it already has: its source keys, and its customer managed replica keys in the compared
 * regions (`alias/aws/ssm` needs no permission: the AWS managed key's policy allows every principal
 * of the account through Parameter Store). Each key appears once.
 */
export function inheritParameterKeys(
  replicator: Pick<IParameterReplicator, 'sourceEncryptionKeys' | 'replicaKmsKeys'> | undefined, granted: GrantedKeys,
): InheritedParameterKeys {
  if (!replicator) return { sourceKeys: [], replicaKeys: [] };
  // Equal ARN strings name the same key; the same IKey gives the same token for an unresolved ARN.
  const seenArns = new Set([...granted.sourceKeys.map((k) => k.keyArn), ...granted.keyArns]);
  const sourceKeys: kms.IKey[] = [];
  for (const key of replicator.sourceEncryptionKeys) {
    if (seenArns.has(key.keyArn)) continue;
    seenArns.add(key.keyArn);
    sourceKeys.push(key);
  }
  const seenReplicaKeys = new Set<string>((granted.replicaKeys ?? []).map(replicaKeyId));
  const replicaKeys: ReplicaKmsKey[] = [];
  for (const key of replicator.replicaKmsKeys) {
    if (!granted.regions.includes(key.region) || key.aliasName === SSM_MANAGED_ALIAS) continue;
    if (key.keyArn !== undefined && granted.keyArns.includes(key.keyArn)) continue;
    const id = replicaKeyId(key);
    if (seenReplicaKeys.has(id)) continue;
    seenReplicaKeys.add(id);
    replicaKeys.push(key);
  }
  return { sourceKeys, replicaKeys };
}

/** Identifies a replica key by its region and how it is named. */
function replicaKeyId(key: ReplicaKmsKey): string {
  return JSON.stringify([key.region, key.keyArn ?? null, key.aliasName ?? null]);
}

/** A statement with the reason cdk-nag is given for its wildcard resources. */
export interface ReasonedStatement {
  readonly statement: iam.PolicyStatement;
  readonly reason: string;
}

/**
 * `kms:Decrypt` with the inherited keys, only through Parameter Store (`kms:ViaService`) in the
 * key's region: source keys in `primary` by ARN; replica keys by ARN, or by alias through
 * `kms:ResourceAliases` (the key id of an alias in another region is not known here).
 */
export function parameterKeyStatements(stack: Stack, primary: string, keys: InheritedParameterKeys): ReasonedStatement[] {
  const via = (region: string) => ({ 'kms:ViaService': `ssm.${region}.${domainSuffixOf(region)}` });
  const out: ReasonedStatement[] = [];
  if (keys.sourceKeys.length > 0) {
    out.push({
      statement: new iam.PolicyStatement({
        actions: ['kms:Decrypt'], resources: keys.sourceKeys.map((k) => k.keyArn), conditions: { StringEquals: via(primary) },
      }),
      reason: 'Source keys of the parameter replicator are named by ARN.',
    });
  }
  out.push(...replicaKeyStatements(stack, keys.replicaKeys, ['kms:Decrypt']));
  return out;
}

/**
 * What PutParameter of a SecureString under each of `keys` needs besides `kms:Decrypt`:
 * `kms:Encrypt` (Standard tier values) and `kms:GenerateDataKey` (Advanced tier values), only
 * through Parameter Store in the key's region, by ARN or by alias through `kms:ResourceAliases`.
 * `alias/aws/ssm` needs no grant and is left out.
 */
export function parameterKeyWriteStatements(stack: Stack, keys: ReplicaKmsKey[]): ReasonedStatement[] {
  return replicaKeyStatements(stack, keys.filter((k) => k.aliasName !== SSM_MANAGED_ALIAS), ['kms:Encrypt', 'kms:GenerateDataKey']);
}

/** `actions` with each replica key, only through Parameter Store in its region. */
function replicaKeyStatements(stack: Stack, keys: ReplicaKmsKey[], actions: string[]): ReasonedStatement[] {
  const via = (region: string) => ({ 'kms:ViaService': `ssm.${region}.${domainSuffixOf(region)}` });
  return keys.map((key) => {
    if (key.keyArn !== undefined) {
      return {
        statement: new iam.PolicyStatement({ actions, resources: [key.keyArn], conditions: { StringEquals: via(key.region) } }),
        reason: 'Replica keys of the parameter replicator are named by ARN.',
      };
    }
    return {
      statement: new iam.PolicyStatement({
        actions,
        resources: [stack.formatArn({ service: 'kms', region: key.region, resource: 'key', resourceName: '*' })],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.aliasName }, 'StringEquals': via(key.region) },
      }),
      reason: `The parameter replicator's SecureString key in ${key.region} is named by its alias ${key.aliasName}, so its key id is unknown: `
        + `limited to keys carrying that alias (kms:ResourceAliases), used through Parameter Store in ${key.region} (kms:ViaService).`,
    };
  });
}
