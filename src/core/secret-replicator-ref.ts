import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { ConflictPolicy } from './conflict-policy';
import { ReplicaKmsKey } from './replica-kms-key';
import { SecretSelection } from './secret-selection';

/**
 * A secret replicator as the constructs that work next to it see it: which secrets it copies to
 * which regions, with which keys and how. `CrossRegionSecretReplicator` is one; a
 * `ConfigDriftDetector` given one compares the same secrets and repairs them the same way.
 */
export interface ISecretReplicator extends IConstruct {
  /** The selected secrets. */
  readonly secrets: SecretSelection;

  /** Replica regions of this account. */
  readonly replicaRegions: string[];

  /** Customer managed keys of the replicas; empty when every replica uses `aws/secretsmanager`. */
  readonly replicaKmsKeys: ReplicaKmsKey[];

  /** Customer managed keys of the primary secrets; may be empty. */
  readonly sourceEncryptionKeys: kms.IKey[];

  /** Secret holding the HMAC key of the replicas' provenance version ids. */
  readonly provenanceKey: secretsmanager.Secret;

  /** How replicas changed in their own region are handled. */
  readonly conflictPolicy: ConflictPolicy;

  /** Whether the primary secret's own tags are copied to its replicas. */
  readonly replicateTags: boolean;

  /**
   * Value of the provenance tag `cross-region-config:deployment` written on every replica.
   *
   * @default - not set: every replica is named in IAM by the selection's names and prefixes
   */
  readonly deploymentId?: string;

  /**
   * The replicator's settings parameter (`<parameterPrefix>/global/secrets/cross-region-config`),
   * which the replicator rewrites after each full sync: a detector comparing parameter paths that
   * cover it leaves it out.
   *
   * @default - no settings parameter
   */
  readonly configParameter?: ssm.StringParameter;
}
