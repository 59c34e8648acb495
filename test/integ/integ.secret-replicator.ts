/**
 * An example three-region app: secrets under `prod/app/` in us-east-1 replicated to eu-west-1
 * and ap-southeast-2, with a customer key by alias in one region, an alarm topic and the seed's
 * Parameter Store document. Used by the Quick start demo and deployable as it is:
 *
 *   npx cdk --app "npx ts-node --project tsconfig.dev.json test/integ/integ.secret-replicator.ts" synth
 */
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ConflictPolicy, CrossRegionSecretReplicator, SecretSelection } from '../../src';

/** The primary region of the example, and the two replica regions. */
export const EXAMPLE_PRIMARY = 'us-east-1';
export const EXAMPLE_REPLICAS = ['eu-west-1', 'ap-southeast-2'];

/** A stack holding the replicator for `prod/app/*` secrets. */
export class SecretsStack extends Stack {
  /** The topic every alarm of the stack notifies. */
  public readonly alerts: sns.Topic;
  /** The replicator of `prod/app/*` secrets. */
  public readonly replicator: CrossRegionSecretReplicator;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.alerts = new sns.Topic(this, 'Alerts', { enforceSSL: true });
    this.replicator = new CrossRegionSecretReplicator(this, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/app/'),
      replicaRegions: EXAMPLE_REPLICAS,
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/app-secrets' }],
      conflictPolicy: ConflictPolicy.PRIMARY_WINS,
      parameterPrefix: '/genai-demo/production',
    });
    this.replicator.addAlarmAction(new actions.SnsAction(this.alerts));
  }
}

/** Builds the example app; `outdir` defaults to a temporary directory. */
export function buildExampleApp(outdir?: string): { app: App; stack: SecretsStack } {
  const app = new App({ outdir });
  const stack = new SecretsStack(app, 'CrossRegionSecrets', { env: { account: '123456789012', region: EXAMPLE_PRIMARY } });
  return { app, stack };
}

if (require.main === module) {
  buildExampleApp().app.synth();
}
