/**
 * A customer managed KMS key that encrypts the replicas in one replica region.
 *
 * Give the key as an ARN or an alias name string: an `IKey` defined in another region's stack cannot
 * be referenced from this stack (aws/aws-cdk#29819).
 */
export interface ReplicaKmsKey {
  /**
   * Replica region the key is in; one of `replicaRegions`.
   */
  readonly region: string;

  /**
   * ARN of the key, in `region`. Set exactly one of `keyArn` and `aliasName`.
   *
   * @default - the key is named by `aliasName`
   */
  readonly keyArn?: string;

  /**
   * Alias name of the key in `region` and in this account, such as `alias/secrets`. Set exactly one
   * of `keyArn` and `aliasName`. IAM is scoped with `kms:ResourceAliases`.
   *
   * @default - the key is named by `keyArn`
   */
  readonly aliasName?: string;
}
