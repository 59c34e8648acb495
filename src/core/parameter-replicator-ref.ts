import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { ParameterOverride } from './parameter-override';

/**
 * A parameter replicator as the constructs that work next to it see it: which parameter paths it
 * copies to which regions, and which per-region values it declares. `CrossRegionParameterReplicator`
 * is one; a `ConfigDriftDetector` given one compares the same paths and expects the same overrides.
 */
export interface IParameterReplicator extends IConstruct {
  /** Replica regions of this account. */
  readonly replicaRegions: string[];

  /** Paths of the selected parameters, each recursive (`/` for every parameter). */
  readonly parameterPaths: string[];

  /** Paths below `parameterPaths` whose parameters are not replicated. */
  readonly excludedParameterPaths: string[];

  /** The declared per-region values. */
  readonly overrides: ParameterOverride[];

  /** The replicator's settings parameter; set only when it writes one. */
  readonly configParameter?: ssm.StringParameter;
}
