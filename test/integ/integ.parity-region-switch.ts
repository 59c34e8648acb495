/**
 * An ARC Region switch plan that refuses to fail over into a region whose configuration disagrees
 * with the primary's: before eu-west-1 is activated, a custom action Lambda step runs the
 * ConfigParityCheck of the replicated `prod/app/*` secrets and the parameters under
 * `/genai-demo/production/app`. The step fails (the function errors with the check's summary, which
 * names each item and drift type) and Region switch retries it every 2 minutes for 30 minutes;
 * a region that still disagrees fails the execution before any traffic moves. When us-east-1 itself
 * is down (an ungraceful switch) the step is skipped: the check needs the primary to compare with.
 *
 *   npx cdk --app "npx ts-node --project tsconfig.dev.json test/integ/integ.parity-region-switch.ts" synth
 */
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as arc from 'aws-cdk-lib/aws-arcregionswitch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EXAMPLE_PARAMETER_PATH } from './integ.config-drift-detector';
import { EXAMPLE_PRIMARY } from './integ.secret-replicator';
import { ConfigParityCheck, SecretSelection } from '../../src';

/** The standby region the plan fails over to. */
export const EXAMPLE_STANDBY = 'eu-west-1';

/** The primary's parity check and the Region switch plan that runs it before activating the standby. */
export class RegionSwitchStack extends Stack {
  public readonly parity: ConfigParityCheck;
  public readonly plan: arc.CfnPlan;
  /** The role Region switch runs the plan with. */
  public readonly planRole: iam.Role;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.parity = new ConfigParityCheck(this, 'ConfigParity', {
      regions: [EXAMPLE_STANDBY],
      secrets: SecretSelection.byNamePrefix('prod/app/'),
      replicaKmsKeys: [{ region: EXAMPLE_STANDBY, aliasName: 'alias/app-secrets' }],
      parameterPaths: [EXAMPLE_PARAMETER_PATH],
    });
    this.planRole = new iam.Role(this, 'PlanRole', {
      assumedBy: new iam.ServicePrincipal('arc-region-switch.amazonaws.com'),
      description: 'Runs the app-failover Region switch plan',
    });
    this.parity.grantInvoke(this.planRole);
    this.planRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:GetFunction'], resources: [this.parity.handler.functionArn] }));
    this.plan = new arc.CfnPlan(this, 'Plan', {
      name: 'app-failover',
      regions: [EXAMPLE_PRIMARY, EXAMPLE_STANDBY],
      primaryRegion: EXAMPLE_PRIMARY,
      recoveryApproach: 'activePassive',
      executionRole: this.planRole.roleArn,
      workflows: [{
        workflowTargetAction: 'activate',
        workflowTargetRegion: EXAMPLE_STANDBY,
        steps: [{
          // The handler reads the region to check from the step's name.
          name: ConfigParityCheck.regionSwitchStepName(EXAMPLE_STANDBY),
          description: `Refuses to activate ${EXAMPLE_STANDBY} while its secrets and parameters disagree with ${EXAMPLE_PRIMARY}`,
          executionBlockType: 'CustomActionLambda',
          executionBlockConfiguration: {
            customActionLambdaConfig: {
              lambdas: [{ arn: this.parity.handler.functionArn }],
              // The check runs in the primary, which is the region being deactivated.
              regionToRun: 'deactivatingRegion',
              retryIntervalMinutes: 2,
              timeoutMinutes: 30,
              ungraceful: { behavior: 'skip' },
            },
          },
        }],
      }, {
        workflowTargetAction: 'deactivate',
        workflowTargetRegion: EXAMPLE_PRIMARY,
        steps: [{
          name: 'ApproveDeactivation',
          executionBlockType: 'ManualApproval',
          executionBlockConfiguration: { executionApprovalConfig: { approvalRole: this.planRole.roleArn, timeoutMinutes: 60 } },
        }],
      }],
    });
  }
}

/** Builds the example app; `outdir` defaults to a temporary directory. */
export function buildRegionSwitchExampleApp(outdir?: string): { app: App; stack: RegionSwitchStack } {
  const app = new App({ outdir });
  const stack = new RegionSwitchStack(app, 'AppFailover', { env: { account: '123456789012', region: EXAMPLE_PRIMARY } });
  return { app, stack };
}

if (require.main === module) {
  buildRegionSwitchExampleApp().app.synth();
}
