/**
 * The apps whose templates are checked against AWS's own rules: cfn-lint over every template
 * (test/rules/cfn-lint.test.ts) and event-ruler over every EventBridge rule (test/rules/event-ruler).
 * Every construct with its defaults and with its main options (the replicator and the blue-green
 * pipeline also with the security options), the snapshot stacks, the integ apps
 * (test/integ/*.ts) and the demo app (test/demo/demo-app.ts).
 *
 * Each entry also says which events its rules must match (`RuleExpectation`), in terms of the props
 * it was built with, so the event-ruler test can check "matches what it should and nothing else".
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  ConfigDriftDetector, ConfigMapSyncer, ConflictPolicy, CrossRegionConfigDashboard, CrossRegionConfigManagement, CrossRegionParameterReplicator,
  CrossRegionSecretReplicator, DriftIgnoreRule, DriftRemediation, KubernetesCluster, MultiRegionPipeline, ParameterOverride, ParameterSelection,
  SecretSelection,
} from '../../src';
import { buildDemoApp } from '../demo/demo-app';
import { buildConfigExampleApp } from '../integ/integ.config-drift-detector';
import { buildPipelineExampleApp } from '../integ/integ.multi-region-pipeline';
import { buildExampleApp } from '../integ/integ.secret-replicator';
import { blueGreenProps, minimalProps as pipelineProps } from '../multi-region-pipeline/util';

/** The account and primary region of every stack built here. */
export const ACCOUNT = '111111111111';
export const PRIMARY = 'us-east-1';

/** The secrets one Secrets Manager rule must match: by exact name, by name prefix, or every secret. */
export interface SecretExpectation {
  readonly names?: string[];
  readonly prefixes?: string[];
  /** A selection by tags alone: the rule cannot narrow and must match every secret. */
  readonly any?: boolean;
  /** Complete ARNs of selected secrets the app names by ARN, by secret name. */
  readonly fullArns?: { [name: string]: string };
}

/** What the rules of one construct (found by its construct path) must match. */
export interface RuleExpectation {
  /** Construct path of the rule, e.g. `Stack/Replicator/Rule`. */
  readonly rulePath: string;
  readonly secrets?: SecretExpectation;
  /** Parameter Store: the path whose parameter and descendants the rule must match. */
  readonly parameterPath?: string;
  /** Parameter Store: paths whose descendants (not the path itself) the rule must match. */
  readonly parameterTrees?: string[];
  /** CodePipeline: the pipeline name, and the states per detail-type the watcher acts on. */
  readonly pipeline?: { name: string; executionStates: string[]; stageStates: string[] };
  /** A schedule: the rule matches no event pattern. */
  readonly schedule?: boolean;
}

export interface RepresentativeApp {
  readonly name: string;
  readonly app: App;
  readonly rules: RuleExpectation[];
}

/** Secrets the apps import by complete ARN. */
const BILLING_ARN = `arn:aws:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:billing/api-key-AbC123`;
const FLAGS_ARN = `arn:aws:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:genai-demo/production/flags-XyZ789`;

/** The states the pipeline watcher acts on (lambda-src/multi-region-pipeline/watcher.ts). */
const WATCHER_STATES = { executionStates: ['FAILED'], stageStates: ['STARTED', 'FAILED'] };

function stackIn(app: App, id: string = 'RulesStack'): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region: PRIMARY } });
}

/** The security options of every handler, with keys and an alarm topic the app owns. */
function securityOptions(stack: Stack) {
  return {
    logGroupEncryptionKey: new kms.Key(stack, 'LogsKey', { enableKeyRotation: true }),
    deadLetterQueueEncryptionKey: new kms.Key(stack, 'QueueKey', { enableKeyRotation: true }),
    reservedConcurrentExecutions: 5,
    alarmActions: [new actions.SnsAction(new sns.Topic(stack, 'Alarms', {
      masterKey: new kms.Key(stack, 'AlarmsKey', { enableKeyRotation: true }), enforceSSL: true,
    }))],
  };
}

function remote(name: string = 'app-eu', region: string = 'eu-west-1'): KubernetesCluster {
  return KubernetesCluster.fromClusterAttributes({ clusterName: name, region });
}

/** Builds every representative app, each with its own output directory under `outdir`. */
export function representativeApps(outdir: string): RepresentativeApp[] {
  const out = (name: string) => path.join(outdir, name);
  const apps: RepresentativeApp[] = [];
  const add = (name: string, build: (app: App) => RuleExpectation[]) => {
    const app = new App({ outdir: out(name) });
    apps.push({ name, app, rules: build(app) });
  };

  add('replicator-defaults', (app) => {
    const stack = stackIn(app);
    new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromNames('app/db'), replicaRegions: ['eu-west-1'] });
    return [
      { rulePath: 'RulesStack/Replicator/Rule', secrets: { names: ['app/db'] } },
      { rulePath: 'RulesStack/Replicator/Schedule', schedule: true },
    ];
  });

  add('replicator-options', (app) => {
    const stack = stackIn(app);
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const imported = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Imported', BILLING_ARN);
    new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.anyOf(
        SecretSelection.fromNames('app/db'),
        SecretSelection.byNamePrefix('prod/'),
        SecretSelection.byNamePrefixAndTags('team/', { owner: 'payments' }),
        SecretSelection.fromSecrets(imported),
      ),
      replicaRegions: ['eu-west-1', 'eu-central-1', 'ap-southeast-1'],
      replicaKmsKeys: [
        { region: 'eu-west-1', keyArn: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
        { region: 'eu-central-1', aliasName: 'alias/secrets' },
      ],
      crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' }],
      sourceEncryptionKeys: [new kms.Key(stack, 'SourceKey', { enableKeyRotation: true })],
      conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
      propagateDeletions: true,
      parameterPrefix: '/app/prod',
      ...securityOptions(stack),
      vpc,
    });
    return [
      { rulePath: 'RulesStack/Replicator/Rule', secrets: { names: ['app/db', 'billing/api-key'], prefixes: ['prod/', 'team/'], fullArns: { 'billing/api-key': BILLING_ARN } } },
      { rulePath: 'RulesStack/Replicator/Schedule', schedule: true },
    ];
  });

  add('replicator-tags', (app) => {
    const stack = stackIn(app);
    new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byTags({ replicate: 'true' }),
      replicaRegions: ['eu-west-1'],
    });
    return [
      { rulePath: 'RulesStack/Replicator/Rule', secrets: { any: true } },
      { rulePath: 'RulesStack/Replicator/Schedule', schedule: true },
    ];
  });

  add('parameter-replicator-defaults', (app) => {
    const stack = stackIn(app);
    new CrossRegionParameterReplicator(stack, 'Parameters', { parameters: ParameterSelection.fromPaths(['/app/prod']), replicaRegions: ['eu-west-1'] });
    return [
      { rulePath: 'RulesStack/Parameters/Rule', parameterTrees: ['/app/prod'] },
      { rulePath: 'RulesStack/Parameters/Schedule', schedule: true },
    ];
  });

  add('parameter-replicator-options', (app) => {
    const stack = stackIn(app);
    new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/production', '/shared/config'], {
        namePatterns: ['/app/production/**'], tags: { replicate: 'yes' }, excludedPaths: ['/app/production/local'],
      }),
      replicaRegions: ['eu-west-1', 'ap-southeast-1'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/parameters' }],
      overrides: [ParameterOverride.template('/app/production/endpoint', 'https://{region}.example.com')],
      crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/parameter-writer' }],
      conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
      propagateDeletions: true,
      parameterPrefix: '/app/production',
      ...securityOptions(stack),
    });
    return [
      { rulePath: 'RulesStack/Parameters/Rule', parameterTrees: ['/app/production', '/shared/config'] },
      { rulePath: 'RulesStack/Parameters/Schedule', schedule: true },
    ];
  });

  add('drift-defaults', (app) => {
    const stack = stackIn(app);
    new ConfigDriftDetector(stack, 'DriftDetector', { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] });
    return [{ rulePath: 'RulesStack/DriftDetector/Schedule', schedule: true }];
  });

  add('drift-options', (app) => {
    const stack = stackIn(app);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/app/'),
      replicaRegions: ['eu-west-1', 'ap-southeast-1'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    });
    new ConfigDriftDetector(stack, 'DriftDetector', {
      replicator,
      comparedTagKeys: ['team'],
      parameterPaths: ['/app/production'],
      configMaps: [{ primaryCluster: remote('app-us', PRIMARY), replicaClusters: [remote()], names: ['app-config'] }],
      ignoreRules: [DriftIgnoreRule.parameters('/app/production/regional/**')],
      autoRemediation: DriftRemediation.APPLY,
      parameterPrefix: '/app/production',
    });
    return [
      { rulePath: 'RulesStack/Replicator/Rule', secrets: { prefixes: ['prod/app/'] } },
      { rulePath: 'RulesStack/Replicator/Schedule', schedule: true },
      { rulePath: 'RulesStack/DriftDetector/Schedule', schedule: true },
    ];
  });

  add('syncer-defaults', (app) => {
    const stack = stackIn(app);
    new ConfigMapSyncer(stack, 'Syncer', {
      parameterPath: '/app/prod/config', projectName: 'genai-demo', environmentName: 'production', targets: [{ cluster: remote() }],
    });
    return [
      { rulePath: 'RulesStack/Syncer/Schedule', schedule: true },
      { rulePath: 'RulesStack/Syncer/ParameterRule', parameterPath: '/app/prod/config' },
    ];
  });

  add('syncer-options', (app) => {
    const stack = stackIn(app);
    const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'genai-demo-us',
      clusterEndpoint: 'https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
      clusterCertificateAuthorityData: 'Y2E=',
    });
    const byName = secretsmanager.Secret.fromSecretNameV2(stack, 'AppSecret', 'genai-demo/production/app');
    const byArn = secretsmanager.Secret.fromSecretCompleteArn(stack, 'FlagsSecret', FLAGS_ARN);
    const targets = [
      { cluster: KubernetesCluster.fromCluster(local) },
      { cluster: remote('genai-demo-eu'), namespace: 'genai-demo', createNamespace: true },
    ];
    new ConfigMapSyncer(stack, 'ConfigMapSyncer', {
      parameterPath: '/genai-demo/production/config',
      sourceSecret: byName,
      sourceEncryptionKeys: [new kms.Key(stack, 'ConfigKey', { enableKeyRotation: true })],
      projectName: 'genai-demo',
      environmentName: 'production',
      includeKeys: ['log_level', 'cache_ttl'],
      targets,
      parameterPrefix: '/genai-demo/production',
    });
    new ConfigMapSyncer(stack, 'FlagsSyncer', {
      sourceSecret: byArn, projectName: 'genai-demo', environmentName: 'flags', targets: [{ cluster: remote('genai-demo-eu') }],
    });
    return [
      { rulePath: 'RulesStack/ConfigMapSyncer/Schedule', schedule: true },
      { rulePath: 'RulesStack/ConfigMapSyncer/ParameterRule', parameterPath: '/genai-demo/production/config' },
      { rulePath: 'RulesStack/ConfigMapSyncer/SecretRule', secrets: { names: ['genai-demo/production/app'] } },
      { rulePath: 'RulesStack/FlagsSyncer/Schedule', schedule: true },
      { rulePath: 'RulesStack/FlagsSyncer/SecretRule', secrets: { names: ['genai-demo/production/flags'], fullArns: { 'genai-demo/production/flags': FLAGS_ARN } } },
    ];
  });

  add('pipeline-defaults', (app) => {
    const stack = new Stack(app, 'PipelineStack', { env: { account: ACCOUNT, region: PRIMARY } });
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', pipelineProps());
    return [{ rulePath: 'PipelineStack/Pipeline/PipelineEvents', pipeline: { name: pipeline.pipelineName, ...WATCHER_STATES } }];
  });

  add('pipeline-blue-green', (app) => {
    const stack = new Stack(app, 'PipelineStack', { env: { account: ACCOUNT, region: PRIMARY } });
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', {
      ...blueGreenProps(stack),
      pipelineName: 'genai-demo-service',
      manualApproval: true,
      deploymentWindow: { cron: '* * 9-16 ? * MON-THU', timeZone: 'Europe/Berlin' },
      parameterPrefix: '/genai-demo/production',
      ...securityOptions(stack),
    });
    return [{ rulePath: 'PipelineStack/Pipeline/PipelineEvents', pipeline: { name: pipeline.pipelineName, ...WATCHER_STATES } }];
  });

  add('one-stop', (app) => {
    const stack = stackIn(app, 'SecretsStack');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const alertingTopic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'AlertsKey', { enableKeyRotation: true }), enforceSSL: true });
    new CrossRegionConfigManagement(stack, 'Secrets', {
      environment: 'production',
      projectName: 'genai-demo',
      vpc,
      secretsManagerKey: new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true }),
      enableMultiRegion: true,
      replicationRegions: ['eu-west-1', 'ap-southeast-1'],
      alertingTopic,
      configMapSync: { targets: [{ cluster: remote('genai-demo-eu') }], parameterPath: '/genai-demo/production/config' },
    });
    return [
      // The seed's default selection: every secret named <environment>/<projectName>/...
      { rulePath: 'SecretsStack/Secrets/Replicator/Rule', secrets: { prefixes: ['production/genai-demo/'] } },
      { rulePath: 'SecretsStack/Secrets/Replicator/Schedule', schedule: true },
      { rulePath: 'SecretsStack/Secrets/DriftDetector/Schedule', schedule: true },
      { rulePath: 'SecretsStack/Secrets/ConfigMapSyncer/Schedule', schedule: true },
      { rulePath: 'SecretsStack/Secrets/ConfigMapSyncer/ParameterRule', parameterPath: '/genai-demo/production/config' },
    ];
  });

  add('dashboard', (app) => {
    const stack = stackIn(app);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('genai-demo/production/'), replicaRegions: ['eu-west-1', 'ap-southeast-1'],
    });
    const driftDetector = new ConfigDriftDetector(stack, 'DriftDetector', { replicator, parameterPaths: ['/genai-demo/production'] });
    const configMapSyncer = new ConfigMapSyncer(stack, 'ConfigMapSyncer', {
      parameterPath: '/genai-demo/production/config', projectName: 'genai-demo', environmentName: 'production', targets: [{ cluster: remote() }],
    });
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', blueGreenProps(stack));
    new CrossRegionConfigDashboard(stack, 'Dashboard', { replicator, driftDetector, configMapSyncer, pipeline, dashboardName: 'genai-demo-cross-region-config' });
    return [];
  });

  // The integ apps and the demo app build their own App: give each its own output directory.
  for (const [name, build] of [
    ['integ-secret-replicator', (dir: string) => buildExampleApp(dir).app],
    ['integ-config-drift-detector', (dir: string) => buildConfigExampleApp(dir).app],
    ['integ-multi-region-pipeline', (dir: string) => buildPipelineExampleApp(dir).app],
    ['demo', (dir: string) => buildDemoApp(dir).app],
  ] as Array<[string, (dir: string) => App]>) {
    apps.push({ name, app: build(out(name)), rules: [] });
  }
  return apps;
}
