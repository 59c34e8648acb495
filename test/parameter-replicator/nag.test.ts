import { App, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks, NagPack, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { MINIMAL_PROPS, newStack } from './util';
import { ConflictPolicy, CrossRegionParameterReplicator, CrossRegionParameterReplicatorProps, ParameterOverride, ParameterSelection } from '../../src';

/**
 * The AwsSolutions, Serverless and NIST 800-53 R5 packs of cdk-nag on the parameter replicator with
 * every feature: every finding on its resources is acknowledged with a specific reason, and every
 * acknowledgement answers a finding that occurs (test/rules/nag-packs.test.ts covers the defaults
 * and the security options). The packs run through their direct entry point `validateScope()`.
 */

const PATH = 'TestStack/Replicator';

function findings(app: App, raw: boolean): string[] {
  const packs: NagPack[] = [new AwsSolutionsChecks(), new ServerlessChecks(), new NIST80053R5Checks()];
  return packs.flatMap((pack) => {
    if (raw) (pack as any).isAcknowledged = () => false;
    return pack.validateScope(app).violations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith(`${PATH}/`))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
  });
}

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>)
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason }))));
}

function build(props: Partial<CrossRegionParameterReplicatorProps>) {
  const app = new App();
  const stack = newStack(app);
  const extra = typeof props === 'function' ? (props as any)(stack) : props;
  const replicator = new CrossRegionParameterReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...extra });
  return { app, replicator };
}

const everyFeature = (stack: any): Partial<CrossRegionParameterReplicatorProps> => ({
  parameters: ParameterSelection.fromPaths(['/app/prod', '/shared'], { namePatterns: ['/app/prod/**'], tags: { replicate: 'yes' }, excludedPaths: ['/app/prod/local'] }),
  replicaRegions: ['eu-west-1', 'eu-central-1', 'ap-southeast-1'],
  replicaKmsKeys: [
    { region: 'eu-west-1', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
    { region: 'eu-central-1', aliasName: 'alias/parameters' },
  ],
  replicaTier: ssm.ParameterTier.ADVANCED,
  overrides: [ParameterOverride.template('/app/prod/endpoint', 'https://{region}.example.com')],
  crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/parameter-writer' }],
  sourceEncryptionKeys: [new kms.Key(stack, 'SourceKey', { enableKeyRotation: true })],
  conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
  propagateDeletions: true,
  parameterPrefix: '/app/production',
});

describe.each<[string, any]>([['defaults', {}], ['every feature', everyFeature]])('CrossRegionParameterReplicator with cdk-nag, %s', (_name, props) => {
  const { app, replicator } = build(props);
  const raw = findings(app, true);
  const open = findings(app, false);

  test('leaves no finding unacknowledged', () => {
    expect(raw.length).toBeGreaterThan(0);
    expect(open).toEqual([]);
  });

  test('acknowledges each finding with a specific reason, only where it occurs', () => {
    const acks = acknowledgements(replicator).filter((a) => /^(AwsSolutions|Serverless|NIST\.800\.53\.R5)-/.test(a.id));
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length).toBeGreaterThan(60);
      const occurs = raw.some((f) => {
        const [id, path] = f.split(' ');
        return id === ack.id && (path === ack.path || path.startsWith(`${ack.path}/`));
      });
      expect({ ack: `${ack.id} at ${ack.path}`, occurs }).toEqual({ ack: `${ack.id} at ${ack.path}`, occurs: true });
    }
  });

  test('every wildcard resource acknowledged is a selected path, an alias-scoped key, the run lease\'s records or the X-Ray actions', () => {
    const wildcards = acknowledgements(replicator).filter((a) => a.id.startsWith('AwsSolutions-IAM5[')).map((a) => a.id);
    const lease = `arn:<AWS::Partition>:ssm:us-east-1:<AWS::AccountId>:parameter/cdk-cross-region-config/runs/${replicator.serviceName}/*`;
    expect(wildcards).toContain(`AwsSolutions-IAM5[Resource::${lease}]`);
    for (const id of wildcards.filter((w) => w !== `AwsSolutions-IAM5[Resource::${lease}]`)) {
      expect(id).toMatch(/^AwsSolutions-IAM5\[Resource::(\*|arn:<AWS::Partition>:ssm:[a-z0-9-]+:<AWS::AccountId>:parameter\/(app\/prod|shared)\/\*|arn:<AWS::Partition>:kms:eu-central-1:<AWS::AccountId>:key\/\*)\]$/);
    }
  });
});
