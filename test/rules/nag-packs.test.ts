import { App, Stack, Validations } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagPack, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import {
  ConfigDriftDetector, ConfigMapSyncer, CrossRegionConfigManagement, CrossRegionParameterReplicator, CrossRegionSecretReplicator, DriftRemediation,
  HandlerOptions, KubernetesCluster, MultiRegionPipeline, ParameterSelection, SecretSelection,
} from '../../src';
import { blueGreenProps } from '../multi-region-pipeline/util';

/**
 * Regulated-account checks: the AwsSolutions, Serverless and NIST 800-53 rev 5 packs of cdk-nag on
 * every construct, with its defaults and with the security options set (VPC, log-group and
 * dead-letter-queue KMS keys, reserved concurrency, alarm actions). Every finding on the construct's
 * resources is fixed by an option or acknowledged with a specific reason (src/private/nag.ts and the
 * construct's own acknowledgements). Findings on what the test app itself creates (its VPC, keys and
 * topic) are outside the construct and not counted.
 *
 * cdk-nag 3 packs are policy validation plugins; as in the other nag tests, they are run through
 * their direct entry point `validateScope()`.
 */

const PACKS = ['AwsSolutions', 'Serverless', 'NIST.800.53.R5'] as const;

interface Finding {
  readonly pack: string;
  readonly id: string;
  readonly path: string;
}

function packs(): NagPack[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks(), new NIST80053R5Checks()];
}

/** Findings of every pack on resources under `prefixes`; with `raw`, acknowledgements are ignored. */
function findings(app: App, prefixes: string[], raw: boolean): Finding[] {
  return packs().flatMap((pack) => {
    if (raw) (pack as any).isAcknowledged = () => false;
    return pack.validateScope(app).violations.flatMap((v) => v.violatingResources
      .filter((r) => prefixes.some((p) => r.constructPath?.startsWith(p)))
      .map((r) => ({ pack: pack.readPackName, id: v.ruleName, path: r.constructPath! })));
  });
}

function acknowledgementsUnder(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>)
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason }))));
}

/** The security options, with keys and a topic the test app owns. */
function securityOptions(stack: Stack): HandlerOptions & { alarmActions: actions.SnsAction[] } {
  return {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
    logGroupEncryptionKey: new kms.Key(stack, 'LogsKey', { enableKeyRotation: true }),
    deadLetterQueueEncryptionKey: new kms.Key(stack, 'QueueKey', { enableKeyRotation: true }),
    reservedConcurrentExecutions: 5,
    alarmActions: [new actions.SnsAction(new sns.Topic(stack, 'Alerts', {
      masterKey: new kms.Key(stack, 'AlertsKey', { enableKeyRotation: true }), enforceSSL: true,
    }))],
  };
}

const REMOTE = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });

interface Subject {
  readonly name: string;
  /** Builds the construct as `Subject` in the stack; `secure` passes the security options. */
  build(stack: Stack, secure: boolean): IConstruct;
}

const SUBJECTS: Subject[] = [
  {
    name: 'CrossRegionSecretReplicator',
    build: (stack, secure) => new CrossRegionSecretReplicator(stack, 'Subject', {
      secrets: SecretSelection.anyOf(SecretSelection.fromNames('app/db'), SecretSelection.byTags({ replicate: 'true' })),
      replicaRegions: ['eu-west-1'],
      ...(secure ? securityOptions(stack) : {}),
    }),
  },
  {
    name: 'CrossRegionParameterReplicator',
    build: (stack, secure) => new CrossRegionParameterReplicator(stack, 'Subject', {
      parameters: ParameterSelection.fromPaths(['/app/prod']),
      replicaRegions: ['eu-west-1'],
      ...(secure ? securityOptions(stack) : {}),
    }),
  },
  {
    name: 'ConfigDriftDetector',
    build: (stack, secure) => new ConfigDriftDetector(stack, 'Subject', {
      replicaRegions: ['eu-west-1'],
      parameterPaths: ['/app/prod'],
      secrets: SecretSelection.byNamePrefix('prod/'),
      autoRemediation: DriftRemediation.APPLY,
      ...(secure ? securityOptions(stack) : {}),
    }),
  },
  {
    name: 'ConfigMapSyncer',
    build: (stack, secure) => new ConfigMapSyncer(stack, 'Subject', {
      parameterPath: '/app/prod/config',
      projectName: 'genai-demo',
      environmentName: 'production',
      targets: [{ cluster: REMOTE }],
      ...(secure ? securityOptions(stack) : {}),
    }),
  },
  {
    name: 'MultiRegionPipeline',
    build: (stack, secure) => new MultiRegionPipeline(stack, 'Subject', {
      ...blueGreenProps(stack),
      ...(secure ? securityOptions(stack) : {}),
    }),
  },
  {
    name: 'CrossRegionConfigManagement',
    build: (stack, secure) => {
      const options = secure ? securityOptions(stack) : undefined;
      const management = new CrossRegionConfigManagement(stack, 'Subject', {
        environment: 'production',
        projectName: 'genai-demo',
        replicationRegions: ['eu-west-1'],
        configMapSync: { targets: [{ cluster: REMOTE }], parameterPath: '/genai-demo/production/config' },
        ...(options ? { ...options, alarmActions: undefined } : {}),
      });
      if (options) management.addAlarmAction(...options.alarmActions);
      return management;
    },
  },
];

function build(subject: Subject, secure: boolean) {
  const app = new App();
  const stack = new Stack(app, 'NagStack', { env: { account: '111111111111', region: 'us-east-1' } });
  const construct = subject.build(stack, secure);
  // The pipeline's cross-region support stacks (aws-cdk-lib) hold its artifact replication buckets.
  const prefixes = [`${construct.node.path}/`, 'NagStack-support-'];
  return { app, construct, raw: findings(app, prefixes, true), open: findings(app, prefixes, false) };
}

const key = (f: Finding) => `${f.id} ${f.path}`;

describe.each(SUBJECTS)('$name with the AwsSolutions, Serverless and NIST 800-53 R5 packs', (subject) => {
  const defaults = build(subject, false);
  const secure = build(subject, true);

  test('leaves no finding unacknowledged, with defaults and with the security options', () => {
    const summary: string[] = [];
    for (const [variant, result] of [['defaults', defaults], ['security options', secure]] as const) {
      const fixed = variant === 'defaults' ? [] : defaults.raw.filter((d) => !secure.raw.some((s) => key(s) === key(d)));
      for (const pack of PACKS) {
        const raw = result.raw.filter((f) => f.pack === pack);
        const acknowledged = raw.length - result.open.filter((f) => f.pack === pack).length;
        summary.push(`  ${variant.padEnd(16)} ${pack.padEnd(15)} findings ${String(raw.length).padStart(3)}, `
          + `fixed ${String(fixed.filter((f) => f.pack === pack).length).padStart(3)}, acknowledged ${String(acknowledged).padStart(3)}`);
      }
    }
    console.log(`cdk-nag ${subject.name} (fixed: findings with defaults that the security options remove)\n${summary.join('\n')}`);
    expect(defaults.open.map(key)).toEqual([]);
    expect(secure.open.map(key)).toEqual([]);
    // Guards against packs that report nothing.
    expect(defaults.raw.filter((f) => f.pack === 'NIST.800.53.R5').length).toBeGreaterThan(0);
    expect(defaults.raw.filter((f) => f.pack === 'Serverless').length).toBeGreaterThan(0);
  });

  test('the security options fix the findings they are for, rather than acknowledge them', () => {
    const fixedRules = ['NIST.800.53.R5-LambdaInsideVPC', 'NIST.800.53.R5-LambdaConcurrency', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      'NIST.800.53.R5-CloudWatchAlarmAction'];
    for (const rule of fixedRules) {
      expect({ rule, withDefaults: defaults.raw.some((f) => f.id === rule) }).toEqual({ rule, withDefaults: true });
      expect(secure.raw.filter((f) => f.id === rule).map(key)).toEqual([]);
    }
  });

  test('acknowledges each finding with a specific reason, only where it occurs', () => {
    for (const { construct, raw } of [defaults, secure]) {
      const acks = acknowledgementsUnder(construct).filter((a) => PACKS.some((p) => a.id.startsWith(`${p}-`)));
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.reason.length).toBeGreaterThan(60);
        // A finding with that id exists at or below the acknowledging construct.
        expect({ ack: `${ack.id} at ${ack.path}`, occurs: raw.some((f) => f.id === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`))) })
          .toEqual({ ack: `${ack.id} at ${ack.path}`, occurs: true });
      }
    }
  });
});
