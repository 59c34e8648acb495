/**
 * The example three-region app of integ.secret-replicator.ts plus a ConfigDriftDetector: it compares
 * the replicated `prod/app/*` secrets and the parameters under `/genai-demo/production/app` between
 * us-east-1 and the replica regions every hour, reports drift to S3, and records (dry run) what
 * auto-remediation would repair. Used by the Quick start demo and deployable as it is:
 *
 *   npx cdk --app "npx ts-node --project tsconfig.dev.json test/integ/integ.config-drift-detector.ts" synth
 */
import { App, StackProps } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { EXAMPLE_PRIMARY, SecretsStack } from './integ.secret-replicator';
import { ConfigDriftDetector, DriftRemediation } from '../../src';

/** The Parameter Store path the example compares across regions (recursively). */
export const EXAMPLE_PARAMETER_PATH = '/genai-demo/production/app';

/** The secrets stack of the example, with a drift detector over its secrets and parameters. */
export class ConfigStack extends SecretsStack {
  /** The drift detector comparing the replicator's secrets and `EXAMPLE_PARAMETER_PATH`. */
  public readonly detector: ConfigDriftDetector;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.detector = new ConfigDriftDetector(this, 'DriftDetector', {
      replicator: this.replicator,
      parameterPaths: [EXAMPLE_PARAMETER_PATH],
      // Record what would be repaired; switch to APPLY once the reports look right.
      autoRemediation: DriftRemediation.DRY_RUN,
      parameterPrefix: '/genai-demo/production',
    });
    this.detector.addAlarmAction(new actions.SnsAction(this.alerts));
  }
}

/** Builds the example app with the drift detector; `outdir` defaults to a temporary directory. */
export function buildConfigExampleApp(outdir?: string): { app: App; stack: ConfigStack } {
  const app = new App({ outdir });
  const stack = new ConfigStack(app, 'CrossRegionConfig', { env: { account: '123456789012', region: EXAMPLE_PRIMARY } });
  return { app, stack };
}

if (require.main === module) {
  buildConfigExampleApp().app.synth();
}
