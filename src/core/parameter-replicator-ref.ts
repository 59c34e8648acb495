import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { ParameterOverride } from './parameter-override';
import { ReplicaKmsKey } from './replica-kms-key';

/**
 * A parameter replicator as the constructs that work next to it see it: which parameter paths it
 * copies to which regions, with which keys, and which per-region values it declares.
 * `CrossRegionParameterReplicator` is one; a `ConfigDriftDetector` or `ConfigParityCheck` given one
 * compares the same paths, expects the same overrides and may decrypt its SecureString parameters
 * with the same keys.
 */
export interface IParameterReplicator extends IConstruct {
  /** Replica regions of this account. */
  readonly replicaRegions: string[];

  /** Paths of the selected parameters, each recursive (`/` for every parameter). */
  readonly parameterPaths: string[];

  /** Paths below `parameterPaths` whose parameters are not replicated. */
  readonly excludedParameterPaths: string[];

  /**
   * Customer managed keys of the SecureString replicas, at most one per replica region. A region
   * not named here (or named with `alias/aws/ssm`) uses the AWS managed key `aws/ssm`.
   */
  readonly replicaKmsKeys: ReplicaKmsKey[];

  /** Customer managed keys of the primary SecureString parameters, if any. */
  readonly sourceEncryptionKeys: kms.IKey[];

  /** The declared per-region values. */
  readonly overrides: ParameterOverride[];

  /** The replicator's settings parameter; set only when it writes one. */
  readonly configParameter?: ssm.StringParameter;
}
