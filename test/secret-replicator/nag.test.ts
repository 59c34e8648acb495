import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { MINIMAL_PROPS, newStack } from './util';
import { ConflictPolicy, CrossRegionSecretReplicator, CrossRegionSecretReplicatorProps, SecretSelection } from '../../src';

/**
 * cdk-nag 3 is a policy validation plugin (`Validations.of(app).addPlugins(new AwsSolutionsChecks(app))`),
 * not an aspect. aws-cdk-lib 2.257 does not pass the construct tree to plugins, so the tests call the
 * pack's documented direct entry point, `validateScope()`, which walks every CfnResource and skips
 * findings acknowledged with `Validations.of(scope).acknowledge()` on the resource or an ancestor.
 */

const REPLICATOR_PATH = 'TestStack/Replicator';

interface Finding {
  readonly id: string;
  readonly path?: string;
  readonly severity?: string;
}

/** Findings of the AwsSolutions pack on the replicator's resources. */
function findings(app: App, honourAcknowledgements: boolean = true): Finding[] {
  const pack = new AwsSolutionsChecks();
  if (!honourAcknowledgements) {
    (pack as any).isAcknowledged = () => false;
  }
  const report = pack.validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources
    .filter((r) => r.constructPath?.startsWith(`${REPLICATOR_PATH}/`))
    .map((r) => ({ id: v.ruleName, path: r.constructPath, severity: v.severity })));
}

/** Every acknowledgement recorded on the replicator and its descendants, with where it was recorded. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>)
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason }))));
}

function replicatorApp(
  props: Partial<CrossRegionSecretReplicatorProps> = {},
  withVpc: boolean = false,
): { app: App; replicator: CrossRegionSecretReplicator } {
  const app = new App();
  const stack = newStack(app);
  const vpc = withVpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) : undefined;
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, vpc, ...props });
  return { app, replicator };
}

/** Props that exercise every statement and resource the construct can create. */
function everyFeature(stack: Stack): Partial<CrossRegionSecretReplicatorProps> {
  return {
    secrets: SecretSelection.anyOf(
      SecretSelection.fromNames('app/db'),
      SecretSelection.byNamePrefix('prod/'),
      SecretSelection.byTags({ replicate: 'true' }),
      SecretSelection.byNamePrefixAndTags('team/', { owner: 'payments' }),
      SecretSelection.fromSecrets(new secretsmanager.Secret(stack, 'AppSecret')),
    ),
    replicaRegions: ['eu-west-1', 'eu-central-1', 'ap-southeast-1'],
    replicaKmsKeys: [
      { region: 'eu-west-1', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      { region: 'eu-central-1', aliasName: 'alias/secrets' },
    ],
    crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' }],
    sourceEncryptionKeys: [new kms.Key(stack, 'SourceKey', { enableKeyRotation: true })],
    conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
    propagateDeletions: true,
    parameterPrefix: '/app/prod',
  };
}

describe('CrossRegionSecretReplicator with cdk-nag AwsSolutions', () => {
  test('leaves no unacknowledged error or warning with defaults', () => {
    const { app } = replicatorApp();
    expect(findings(app)).toEqual([]);
  });

  test('leaves no unacknowledged error or warning in a VPC', () => {
    const { app } = replicatorApp({}, true);
    expect(findings(app)).toEqual([]);
  });

  test('leaves no unacknowledged error or warning with every feature', () => {
    const app = new App();
    const stack = newStack(app);
    new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...everyFeature(stack) });
    expect(findings(app)).toEqual([]);
  });

  test('acknowledges exactly the findings that occur, each on the construct that owns it', () => {
    for (const build of [
      () => replicatorApp(),
      () => replicatorApp({}, true),
      () => {
        const app = new App();
        const stack = newStack(app);
        const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...everyFeature(stack) });
        return { app, replicator };
      },
    ]) {
      const { app, replicator } = build();
      const raw = findings(app, false);
      // This pack's acknowledgements; the Serverless and NIST 800-53 R5 ones are checked the same way in test/rules/nag-packs.test.ts.
      const acks = acknowledgements(replicator).filter((a) => a.id.startsWith('AwsSolutions-'));
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        // Some finding with that id exists on a resource at or below the acknowledging construct.
        expect(raw.filter((f) => f.id === ack.id && (f.path === ack.path || f.path?.startsWith(`${ack.path}/`)))).not.toEqual([]);
      }
    }
  });

  test('gives every acknowledgement a specific reason', () => {
    const app = new App();
    const stack = newStack(app);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...everyFeature(stack), vpc: new ec2.Vpc(stack, 'Vpc') });
    const acks = acknowledgements(replicator);
    expect(acks.map((a) => a.id)).toEqual(expect.arrayContaining([
      'AwsSolutions-L1',
      'AwsSolutions-SMG4',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:us-east-1:<AWS::AccountId>:secret:prod/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:eu-west-1:<AWS::AccountId>:secret:*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:eu-central-1:<AWS::AccountId>:key/*]',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    ]));
    for (const ack of acks) {
      expect(ack.reason.length).toBeGreaterThan(40);
    }
    const reasonOf = (id: string) => acks.find((a) => a.id === id)!.reason;
    expect(reasonOf('AwsSolutions-L1')).toContain('nodejs22.x');
    expect(reasonOf('AwsSolutions-SMG4')).toContain('HMAC');
    expect(reasonOf('AwsSolutions-IAM5[Resource::*]')).toContain('secretsmanager:ListSecrets');
    expect(reasonOf('AwsSolutions-IAM5[Resource::*]')).toContain('xray:PutTraceSegments');
    expect(reasonOf('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:eu-central-1:<AWS::AccountId>:key/*]')).toContain('kms:ResourceAliases');
    expect(reasonOf('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:eu-west-1:<AWS::AccountId>:secret:*]'))
      .toContain('cross-region-config:source-region');
  });

  test('reports findings that are not acknowledged', () => {
    // Guards the tests above against a pack that reports nothing.
    const { app } = replicatorApp();
    expect(findings(app, false).map((f) => f.id)).toEqual(expect.arrayContaining(['AwsSolutions-L1', 'AwsSolutions-SMG4']));
  });
});
