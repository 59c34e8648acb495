import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { DriftIgnoreRule } from './ignore-rule';
import { ParameterOverride } from './parameter-override';
import { IParameterReplicator } from './parameter-replicator-ref';
import { ReplicaKmsKey } from './replica-kms-key';
import { ISecretReplicator } from './secret-replicator-ref';
import { SecretSelection } from './secret-selection';

/**
 * What a construct compares across regions, as another construct that checks the same
 * configuration sees it. `ConfigDriftDetector` is one; a `ConfigParityCheck` given one checks the
 * same secrets, parameters and regions with the same expected differences.
 */
export interface IConfigComparisonSource extends IConstruct {
  /** Region holding the source of truth. */
  readonly primaryRegion: string;

  /** Regions whose secrets and parameters are compared with the primary's. */
  readonly comparedRegions: string[];

  /**
   * Secrets compared.
   *
   * @default - secrets are not compared
   */
  readonly comparedSecrets?: SecretSelection;

  /** KMS keys the replicas in each region are expected to use; empty when every replica uses `aws/secretsmanager`. */
  readonly comparedReplicaKmsKeys: ReplicaKmsKey[];

  /** Customer managed keys of the primary secrets; may be empty. */
  readonly comparedSourceEncryptionKeys: kms.IKey[];

  /** SSM parameter paths compared recursively; may be empty. */
  readonly comparedParameterPaths: string[];

  /**
   * Declared per-region values of compared parameters: in its region, such a parameter is expected
   * to hold the declared value instead of the primary's. May be empty.
   */
  readonly comparedParameterOverrides: ParameterOverride[];

  /** Names of parameters never compared (this library's settings parameters under the compared paths); may be empty. */
  readonly comparedExcludedParameters: string[];

  /** Expected differences: items never compared. */
  readonly comparedIgnoreRules: DriftIgnoreRule[];

  /**
   * The secret replicator whose secrets are compared.
   *
   * @default - no replicator
   */
  readonly comparedReplicator?: ISecretReplicator;

  /**
   * The parameter replicator whose parameters are compared. A check of the same parameters
   * decrypts its SecureString parameters with its keys.
   *
   * @default - no parameter replicator
   */
  readonly comparedParameterReplicator?: IParameterReplicator;

  /**
   * Customer managed keys of the compared SecureString replicas given to the source itself (a
   * detector's `parameterReplicaKmsKeys`), each in its region. A check of the same parameters
   * decrypts with them too.
   *
   * @default - none
   */
  readonly comparedParameterReplicaKmsKeys?: ReplicaKmsKey[];

  /**
   * Other KMS keys the source decrypts the compared items with (a detector's `encryptionKeyArns`).
   *
   * @default - none
   */
  readonly comparedEncryptionKeyArns?: string[];
}
