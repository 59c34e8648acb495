import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/**
 * A configuration parity check as a deployment gate sees it: a function that answers whether a
 * region's configuration agrees with the primary's. `ConfigParityCheck` is one; a
 * `MultiRegionPipeline` given one puts it before each region's stages.
 */
export interface IConfigParityGate extends IConstruct {
  /** Region holding the source of truth. */
  readonly primaryRegion: string;

  /** Regions the check can be asked about. */
  readonly checkedRegions: string[];

  /**
   * The function a CodePipeline `LambdaInvoke` rule invokes with `UserParameters`
   * `{"region": "<region>"}`; it reports the verdict with PutJobSuccessResult or PutJobFailureResult.
   */
  readonly handler: lambda.Function;

  /** Grants `grantee` permission to invoke the check (`lambda:InvokeFunction`). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
}
