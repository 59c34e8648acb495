import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import {
  ConfigDriftDetector, ConfigParityCheck, ConfigParityCheckProps, CrossRegionConfigDashboard, CrossRegionParameterReplicator,
  CrossRegionSecretReplicator, DeploymentStrategy, DriftIgnoreRule, KubernetesCluster, MultiRegionPipeline, ParameterOverride, ParameterSelection,
  SecretSelection,
} from '../../src';
import { ParityEnv } from '../../src/parity-check/contract';
import { at } from '../core/messages';
import { blueGreenProps, minimalProps, newPipelineStack, PRIMARY, REPLICAS, stage, stagesOf } from '../multi-region-pipeline/util';
import { newStack } from '../secret-replicator/util';

const MINIMAL: ConfigParityCheckProps = { regions: ['eu-west-1'], parameterPaths: ['/app/prod'] };
const build = (props: Partial<ConfigParityCheckProps>, stack: Stack = newStack()) => new ConfigParityCheck(stack, 'Parity', { ...MINIMAL, ...props });
const cluster = (clusterName: string, region: string) => KubernetesCluster.fromClusterAttributes({ clusterName, region });
const envOf = (template: Template): Record<string, any> => {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [ParityEnv.TARGETS]: Match.anyValue() } } } })) as any[];
  return fn.Properties.Environment.Variables;
};
const statementsOf = (stack: Stack, check: ConfigParityCheck): any[] => {
  const template = Template.fromStack(stack);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  const roleId = stack.getLogicalId(check.role.node.defaultChild as any);
  return policies.filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
};

describe('defaults', () => {
  test('a bundled handler of nodejs22.x with 512 MiB and a 5-minute timeout, checking every 15 minutes', () => {
    const check = build({});
    const template = Template.fromStack(check.node.scope as Stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', MemorySize: 512, Timeout: 300, Architectures: ['arm64'] });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Input: '{"action":"check_all"}' })],
    });
    expect(envOf(template)).toMatchObject({
      [ParityEnv.PRIMARY_REGION]: 'us-east-1',
      [ParityEnv.TARGETS]: '[{"region":"eu-west-1"}]',
      [ParityEnv.PARAMETER_PATHS]: '["/app/prod"]',
      [ParityEnv.GRACE_WINDOW_SECONDS]: '600',
      [ParityEnv.FAIL_WHEN_UNREADABLE]: 'true',
      [ParityEnv.METRIC_NAMESPACE]: 'CrossRegionConfig/ConfigParity',
    });
  });

  test('ParityAlarm fires when any checked region disagrees in the schedule\'s period, and the handler alarms follow', () => {
    const check = build({});
    const template = Template.fromStack(check.node.scope as Stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConfigParity',
      Namespace: 'CrossRegionConfig/ConfigParity',
      Statistic: 'Minimum',
      Period: 900,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'ignore',
      Dimensions: [{ Name: 'service', Value: check.serviceName }],
    });
    expect(check.alarms.map((a) => a.node.id)).toEqual(['ParityAlarm', 'FullPassAgeAlarm', 'ErrorsAlarm', 'ThrottlesAlarm', 'DeadLetterAlarm']);
  });

  test('no alarm with createAlarms false', () => {
    const check = build({ createAlarms: false });
    expect(check.alarms).toEqual([]);
    Template.fromStack(check.node.scope as Stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('inherits the replicator\'s secrets, regions and keys, and never compares its provenance key', () => {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: ['eu-west-1', 'ap-southeast-2'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    });
    const check = new ConfigParityCheck(stack, 'Parity', { replicator });
    expect(check.checkedRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    const env = envOf(Template.fromStack(stack));
    expect(env[ParityEnv.TARGETS]).toBe('[{"region":"eu-west-1","kmsKeyId":"alias/secrets"},{"region":"ap-southeast-2"}]');
    expect(env[ParityEnv.SECRET_SELECTION]).toContain('prod/');
    expect(stack.resolve(env[ParityEnv.EXCLUDED_SECRET_ARN])).toEqual(stack.resolve(replicator.provenanceKey.secretArn));
  });

  test('inherits what a drift detector compares: secrets, regions, keys, paths, ignore rules, and skips its settings parameters', () => {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: ['eu-west-1', 'ap-southeast-2'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    });
    const driftDetector = new ConfigDriftDetector(stack, 'Detector', {
      replicator,
      parameterPaths: ['/app/prod'],
      ignoreRules: [DriftIgnoreRule.parameters('/app/prod/regional/**')],
      parameterPrefix: '/app/prod',
    });
    const check = new ConfigParityCheck(stack, 'Parity', { driftDetector });
    expect(check.checkedRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    const env = envOf(Template.fromStack(stack));
    expect(env[ParityEnv.TARGETS]).toBe('[{"region":"eu-west-1","kmsKeyId":"alias/secrets"},{"region":"ap-southeast-2"}]');
    expect(env[ParityEnv.SECRET_SELECTION]).toContain('prod/');
    expect(env[ParityEnv.PARAMETER_PATHS]).toBe('["/app/prod"]');
    expect(JSON.parse(env[ParityEnv.IGNORE_RULES])).toEqual([{ kind: 'parameter', namePattern: '/app/prod/regional/**' }]);
    expect(JSON.parse(env[ParityEnv.EXCLUDED_PARAMETERS])).toEqual(['/app/prod/global/secrets/drift-detection-config']);
    expect(stack.resolve(env[ParityEnv.EXCLUDED_SECRET_ARN])).toEqual(stack.resolve(replicator.provenanceKey.secretArn));
  });

  test('props override what the drift detector gives', () => {
    const stack = newStack();
    const driftDetector = new ConfigDriftDetector(stack, 'Detector', { replicaRegions: ['eu-west-1', 'ap-southeast-2'], parameterPaths: ['/app/prod'] });
    const check = new ConfigParityCheck(stack, 'Parity', { driftDetector, regions: ['eu-west-1'], parameterPaths: ['/app/other'] });
    expect(check.checkedRegions).toEqual(['eu-west-1']);
    expect(envOf(Template.fromStack(stack))[ParityEnv.PARAMETER_PATHS]).toBe('["/app/other"]');
  });

  test('declared per-region values and ignore rules reach the handler', () => {
    const check = build({
      regions: ['eu-west-1', 'ap-southeast-2'],
      parameterOverrides: [ParameterOverride.template('/app/prod/endpoint', 'https://{region}.example.com')],
      ignoreRules: [DriftIgnoreRule.parameters('/app/prod/regional/**')],
    });
    const env = envOf(Template.fromStack(check.node.scope as Stack));
    expect(JSON.parse(env[ParityEnv.PARAMETER_OVERRIDES])).toEqual([
      { name: '/app/prod/endpoint', region: 'eu-west-1', value: 'https://eu-west-1.example.com' },
      { name: '/app/prod/endpoint', region: 'ap-southeast-2', value: 'https://ap-southeast-2.example.com' },
    ]);
    expect(JSON.parse(env[ParityEnv.IGNORE_RULES])).toEqual([{ kind: 'parameter', namePattern: '/app/prod/regional/**' }]);
  });

  test('regionSwitchStepName names the step whose region the handler checks', () => {
    expect(ConfigParityCheck.regionSwitchStepName('eu-west-1')).toBe('ConfigParity-eu-west-1');
  });
});

describe('parameter replicator and declared per-region values', () => {
  const parameterReplicator = (stack: Stack, paths = ['/app/prod']) => new CrossRegionParameterReplicator(stack, 'Parameters', {
    parameters: ParameterSelection.fromPaths(paths, paths.includes('/') ? {} : { excludedPaths: ['/app/prod/local'] }),
    replicaRegions: ['eu-west-1', 'ap-southeast-2'],
    overrides: [
      ParameterOverride.template('/app/prod/endpoint', 'https://{region}.example.com'),
      ParameterOverride.forRegion('/app/prod/ami', 'ap-southeast-2', 'ami-0123456789abcdef0'),
    ],
    parameterPrefix: '/app/settings',
  });
  const ENDPOINTS = [
    { name: '/app/prod/endpoint', region: 'eu-west-1', value: 'https://eu-west-1.example.com' },
    { name: '/app/prod/endpoint', region: 'ap-southeast-2', value: 'https://ap-southeast-2.example.com' },
  ];
  const AMI = { name: '/app/prod/ami', region: 'ap-southeast-2', value: 'ami-0123456789abcdef0' };

  test('checks a parameter replicator\'s paths and regions, expects its overrides and skips its excluded paths and settings parameter', () => {
    const stack = newStack();
    const replicator = parameterReplicator(stack);
    const check = new ConfigParityCheck(stack, 'Parity', { parameterReplicator: replicator });
    expect(check.checkedRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    const env = envOf(Template.fromStack(stack));
    expect(env[ParityEnv.PARAMETER_PATHS]).toBe('["/app/prod"]');
    expect(JSON.parse(env[ParityEnv.PARAMETER_OVERRIDES])).toEqual([...ENDPOINTS, AMI]);
    expect(JSON.parse(env[ParityEnv.IGNORE_RULES])).toEqual([{ kind: 'parameter', namePattern: '/app/prod/local/**' }]);
    expect(stack.resolve(env[ParityEnv.EXCLUDED_PARAMETERS])).toEqual(stack.resolve(JSON.stringify([replicator.configParameter!.parameterName])));
    // The role reads the replicated paths in the primary and both replica regions.
    const resources = JSON.stringify(statementsOf(stack, check).filter((st) => [st.Action].flat().includes('ssm:GetParametersByPath')));
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) expect(resources).toContain(`:ssm:${region}:`);
  });

  test('narrowed regions and paths keep the overrides of the checked regions and parameters only', () => {
    const stack = newStack();
    const check = new ConfigParityCheck(stack, 'Parity', { parameterReplicator: parameterReplicator(stack), regions: ['eu-west-1'] });
    expect(check.checkedRegions).toEqual(['eu-west-1']);
    expect(JSON.parse(envOf(Template.fromStack(stack))[ParityEnv.PARAMETER_OVERRIDES])).toEqual([ENDPOINTS[0]]);
    const other = newStack();
    new ConfigParityCheck(other, 'Parity', { parameterReplicator: parameterReplicator(other), parameterPaths: ['/app/prod/db'] });
    const env = envOf(Template.fromStack(other));
    expect(env[ParityEnv.PARAMETER_PATHS]).toBe('["/app/prod/db"]');
    expect(env).not.toHaveProperty(ParityEnv.PARAMETER_OVERRIDES);
    expect(env).not.toHaveProperty(ParityEnv.IGNORE_RULES);
  });

  test('parameterOverrides given to the check win over the replicator\'s', () => {
    const stack = newStack();
    new ConfigParityCheck(stack, 'Parity', { parameterReplicator: parameterReplicator(stack), parameterOverrides: [] });
    expect(envOf(Template.fromStack(stack))).not.toHaveProperty(ParityEnv.PARAMETER_OVERRIDES);
  });

  test('a replicator of every parameter ("/") leaves the paths to parameterPaths', () => {
    const stack = newStack();
    expect(() => new ConfigParityCheck(stack, 'Parity', { parameterReplicator: parameterReplicator(stack, ['/']) })).toThrow(at('TestStack/Parity',
      'secrets or parameterPaths, configMaps or replicator must give the check something to compare, but got undefined'));
  });

  test('inherits the overrides a drift detector expects, declared or from its own parameter replicator link', () => {
    const stack = newStack();
    const declared = new ConfigDriftDetector(stack, 'Declared', {
      replicaRegions: ['eu-west-1', 'ap-southeast-2'],
      parameterPaths: ['/app/prod'],
      parameterOverrides: [ParameterOverride.template('/app/prod/endpoint', 'https://{region}.example.com')],
    });
    new ConfigParityCheck(stack, 'Parity', { driftDetector: declared });
    expect(JSON.parse(envOf(Template.fromStack(stack))[ParityEnv.PARAMETER_OVERRIDES])).toEqual(ENDPOINTS);

    const other = newStack();
    const linked = new ConfigDriftDetector(other, 'Linked', { parameterReplicator: parameterReplicator(other) });
    new ConfigParityCheck(other, 'Parity', { driftDetector: linked, regions: ['ap-southeast-2'] });
    const env = envOf(Template.fromStack(other));
    expect(JSON.parse(env[ParityEnv.PARAMETER_OVERRIDES])).toEqual([ENDPOINTS[1], AMI]);
    expect(JSON.parse(env[ParityEnv.IGNORE_RULES])).toEqual([{ kind: 'parameter', namePattern: '/app/prod/local/**' }]);
    expect(JSON.stringify(other.resolve(env[ParityEnv.EXCLUDED_PARAMETERS]))).toContain('Parameters');
  });

  test('a replicator\'s value for a cross-account replica\'s region is left out, not an error (the check and a linked detector)', () => {
    const stack = newStack();
    const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/prod']),
      replicaRegions: ['eu-west-1'],
      crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::222233334444:role/parameter-replica-writer' }],
      overrides: [
        ParameterOverride.forRegion('/app/prod/ami', 'us-west-2', 'ami-0123456789abcdef0'),
        ParameterOverride.template('/app/prod/endpoint', 'https://{region}.example.com'),
      ],
    });
    const detector = new ConfigDriftDetector(stack, 'Detector', { parameterReplicator: replicator });
    new ConfigParityCheck(stack, 'Parity', { parameterReplicator: replicator });
    new ConfigParityCheck(stack, 'ParityFromDetector', { driftDetector: detector });
    const euOnly = [{ name: '/app/prod/endpoint', region: 'eu-west-1', value: 'https://eu-west-1.example.com' }];
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
    const overridesOf = functions.map((f) => f.Properties.Environment.Variables.PARAMETER_OVERRIDES).filter((v) => v !== undefined);
    // The replicator writes us-west-2's values too; the detector and both checks compare eu-west-1 only.
    expect(overridesOf).toHaveLength(4);
    const [writes, ...expects] = overridesOf.map((v) => JSON.parse(v)).sort((a, b) => b.length - a.length);
    expect(writes).toContainEqual({ name: '/app/prod/ami', region: 'us-west-2', value: 'ami-0123456789abcdef0' });
    expect(expects).toEqual([euOnly, euOnly, euOnly]);
  });

  test('fails if the parameter replicator is in another region', () => {
    const app = new App();
    const replicator = new CrossRegionParameterReplicator(new Stack(app, 'Eu', { env: { region: 'eu-west-1' } }), 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app']), replicaRegions: ['us-east-1'],
    });
    expect(() => new ConfigParityCheck(new Stack(app, 'Us', { env: { region: 'us-east-1' } }), 'Parity', { parameterReplicator: replicator }))
      .toThrow(at('Us/Parity', 'parameterReplicator must be in the check\'s region us-east-1, but got "eu-west-1"'));
  });
});

describe('IAM least privilege', () => {
  test('reads only, in the primary and the checked regions: no write to any secret or parameter', () => {
    const stack = newStack();
    const check = new ConfigParityCheck(stack, 'Parity', {
      regions: ['eu-west-1'], secrets: SecretSelection.fromNames('prod/db'), parameterPaths: ['/app/prod'],
    });
    // The run lease's own records are the one thing it writes (see hand-over.test.ts).
    const statements = statementsOf(stack, check).filter((s) => !JSON.stringify(s.Resource).includes(':parameter/cdk-cross-region-config/runs/'));
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a: string) => /^(secretsmanager|ssm|kms):(Put|Create|Update|Delete|Tag|Untag|Restore|Encrypt|GenerateDataKey)/.test(a))).toEqual([]);
    const ssmStatement = statements.find((s) => [s.Action].flat().includes('ssm:GetParametersByPath'));
    const resources = JSON.stringify(stack.resolve(ssmStatement.Resource));
    expect(resources).toContain(':ssm:us-east-1:');
    expect(resources).toContain(':ssm:eu-west-1:');
    expect(resources).toContain('parameter/app/prod/*');
    expect(resources).not.toMatch(/:ssm:(?!us-east-1|eu-west-1)/);
    const list = statements.find((s) => [s.Action].flat().includes('secretsmanager:ListSecrets'));
    expect(list.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } });
    const job = statements.find((s) => [s.Action].flat().includes('codepipeline:PutJobFailureResult'));
    expect(job.Action).toEqual(['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult']);
  });
});

describe('cdk-nag', () => {
  test('a consumer applying AwsSolutionsChecks and NIST 800-53 rev 5 sees no unacknowledged finding from the check', () => {
    const app = new App();
    const stack = newStack(app);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.anyOf(SecretSelection.byNamePrefix('prod/'), SecretSelection.byTags({ replicate: 'yes' })),
      replicaRegions: ['eu-west-1'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    });
    new ConfigParityCheck(stack, 'Parity', {
      replicator,
      parameterPaths: ['/app/prod'],
      encryptionKeyArns: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    });
    for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
      const report = pack.validateScope(app);
      const ours = report.violations.flatMap((v) => v.violatingResources
        .filter((r) => r.constructPath?.startsWith('TestStack/Parity/'))
        .map((r) => `${v.ruleName} ${r.constructPath}`));
      expect(ours).toEqual([]);
    }
  });
});

describe('pipeline gate', () => {
  const withGate = (strategy?: DeploymentStrategy, blueGreen = false) => {
    const app = new App();
    const stack = newPipelineStack(app);
    const parityCheck = new ConfigParityCheck(stack, 'Parity', { regions: REPLICAS, parameterPaths: ['/app/prod'] });
    const props = blueGreen ? blueGreenProps(stack) : { ...minimalProps(), ...(strategy ? { strategy } : {}) };
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', { ...props, parityCheck });
    return { stack, parityCheck, pipeline, template: Template.fromStack(stack) };
  };
  const parityRules = (s: any) => (s.BeforeEntry?.Conditions ?? []).flatMap((c: any) => c.Rules.filter((r: any) => r.RuleTypeId.Provider === 'LambdaInvoke')
    .map((r: any) => ({
      result: c.Result, name: r.Name, region: JSON.parse(r.Configuration.UserParameters).region, fn: r.Configuration.FunctionName,
    })));

  test('sequential: a LambdaInvoke entry condition before each replica region, none before the primary', () => {
    const { stack, parityCheck, template } = withGate();
    expect(parityRules(stage(template, PRIMARY))).toEqual([]);
    for (const region of REPLICAS) {
      const [rule] = parityRules(stage(template, region));
      expect(rule).toMatchObject({ result: 'FAIL', name: `Parity-${region}`, region });
      expect(stack.resolve(rule.fn)).toEqual(stack.resolve(parityCheck.handler.functionName));
      expect(stage(template, region).BeforeEntry.Conditions[0].Rules[0].RuleTypeId).toEqual({ Category: 'Rule', Owner: 'AWS', Provider: 'LambdaInvoke', Version: '1' });
    }
  });

  test('parallel: one condition on the replica wave with a rule per region', () => {
    const { template } = withGate(DeploymentStrategy.parallel());
    const wave = stagesOf(template).find((s) => s.Name !== PRIMARY && s.Name !== 'Source' && s.Name !== 'Build' && s.Name !== 'UpdatePipeline' && parityRules(s).length > 0);
    expect(parityRules(wave).map((r: any) => r.region)).toEqual(REPLICAS);
    expect(wave.BeforeEntry.Conditions).toHaveLength(1);
    expect(parityRules(stage(template, PRIMARY))).toEqual([]);
  });

  test('blue-green: the condition guards the green slot\'s stage, before anything deploys to the region', () => {
    const { template } = withGate(undefined, true);
    for (const region of REPLICAS) {
      expect(parityRules(stage(template, `${region}-green`)).map((r: any) => r.region)).toEqual([region]);
      expect(parityRules(stage(template, `${region}-shift-to-green`))).toEqual([]);
      expect(parityRules(stage(template, `${region}-blue`))).toEqual([]);
    }
  });

  test('with a deployment window, both conditions guard entry', () => {
    const app = new App();
    const stack = newPipelineStack(app);
    const parityCheck = new ConfigParityCheck(stack, 'Parity', { regions: REPLICAS, parameterPaths: ['/app/prod'] });
    new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), parityCheck, deploymentWindow: { cron: '* * 9-16 ? * MON-THU' } });
    const conditions = stage(Template.fromStack(stack), REPLICAS[0]).BeforeEntry.Conditions;
    expect(conditions.map((c: any) => c.Rules[0].RuleTypeId.Provider)).toEqual(['DeploymentWindow', 'LambdaInvoke']);
  });

  test('the pipeline\'s role may invoke the check', () => {
    const { stack, parityCheck, pipeline, template } = withGate();
    const roleId = stack.getLogicalId(pipeline.pipeline.role.node.defaultChild as any);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId)) as any[];
    const invoke = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).find((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.Resource)).toContain(stack.getLogicalId(parityCheck.handler.node.defaultChild as any));
  });

  test('fails if the check does not check every replica region', () => {
    const stack = newPipelineStack();
    const parityCheck = new ConfigParityCheck(stack, 'Parity', { regions: ['eu-west-1'], parameterPaths: ['/app/prod'] });
    expect(() => new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), parityCheck }))
      .toThrow(at('PipelineStack/Pipeline', 'parityCheck must check every replica region ["eu-west-1","ap-southeast-2"], but does not check, but got ["ap-southeast-2"]'));
  });

  test('fails if the check is in another region than the pipeline', () => {
    const app = new App();
    const stack = newPipelineStack(app);
    const other = new Stack(app, 'Other', { env: { account: '111111111111', region: 'us-west-2' } });
    const parityCheck = new ConfigParityCheck(other, 'Parity', { regions: REPLICAS, parameterPaths: ['/app/prod'] });
    expect(() => new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), parityCheck }))
      .toThrow(at('PipelineStack/Pipeline', 'parityCheck must compare with the pipeline\'s primary region us-east-1, but got "us-west-2"'));
  });
});

describe('fails if', () => {
  test.each<[string, Partial<ConfigParityCheckProps>, string]>([
    ['nothing is compared', { parameterPaths: [] }, 'secrets or parameterPaths, configMaps or replicator must give the check something to compare, but got undefined'],
    ['regions is missing', { regions: undefined }, 'regions must be set when no replicator is given and secrets or parameterPaths are compared, but got undefined'],
    ['regions contains the primary region', { regions: ['us-east-1'] }, 'replicaRegions must not contain the primary region, but got ["us-east-1"]'],
    ['a parameter path ends with a slash', { parameterPaths: ['/app/'] },
      'parameterPaths must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production", but got "/app/"'],
    ['a parameter path is reserved', { parameterPaths: ['/aws/service'] }, 'parameterPaths must not be under the reserved "/aws" or "/ssm", but got "/aws/service"'],
    ['parameter paths overlap', { parameterPaths: ['/app', '/app/prod'] }, 'parameterPaths must not overlap (each is compared recursively), but "/app/prod" is under, but got "/app"'],
    ['an override is outside the paths', { parameterOverrides: [ParameterOverride.forRegion('/other/x', 'eu-west-1', 'v')] },
      'parameterOverrides must name parameters under parameterPaths ["/app/prod"], but got "/other/x"'],
    ['graceWindow is not whole seconds', { graceWindow: Duration.millis(1500) }, 'graceWindow must be a whole number of seconds from 0 to 86400, but got "1 second 500 millis"'],
    ['timeout exceeds 15 minutes', { timeout: Duration.minutes(16) }, 'timeout must be a whole number of seconds from 1 to 900, but got "16 minutes"'],
    ['the schedule runs more often than a check may take', { schedule: events.Schedule.rate(Duration.minutes(1)) },
      'schedule must run at most once every 5 minutes (a check of every region may take the handler\'s timeout, and checks must not overlap), but got "rate(1 minute)"'],
    ['metricNamespace is reserved', { metricNamespace: 'AWS/Parity' }, 'metricNamespace must not start with the reserved "AWS/", but got "AWS/Parity"'],
    ['an encryption key is not a key ARN', { encryptionKeyArns: ['alias/x'] },
      'encryptionKeyArns must be KMS key ARNs such as "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", but got "alias/x"'],
    ['an ignore rule names a region that is not checked', { ignoreRules: [DriftIgnoreRule.parameters('/app/**', { replicaRegions: ['ap-southeast-2'] })] },
      'ignoreRules[0] replicaRegions must be checked regions ["eu-west-1"], but got ["ap-southeast-2"]'],
    ['a ConfigMap scope\'s primary cluster is in another region', {
      configMaps: [{ primaryCluster: cluster('a', 'eu-west-1'), replicaClusters: [cluster('b', 'eu-west-2')], names: ['app'] }],
    }, 'configMaps[0].primaryCluster must be in the primary region us-east-1, but got "a in eu-west-1"'],
    ['a ConfigMap scope has a cluster in the primary region', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'us-east-1')], names: ['app'] }],
    }, 'configMaps[0].replicaClusters must be in other regions than the primary (the check compares a region with the primary), but got ["b in us-east-1"]'],
    ['a ConfigMap name is not a DNS subdomain', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'eu-west-1')], names: ['App_Config'] }],
    }, 'configMaps[0].names must be DNS-1123 subdomains: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, but got "App_Config"'],
  ])('%s', (_name, props, message) => {
    expect(() => build(props)).toThrow(at('TestStack/Parity', message));
  });

  test('the stack has no region', () => {
    expect(() => new ConfigParityCheck(new Stack(new App(), 'Agnostic'), 'Parity', MINIMAL))
      .toThrow(at('Agnostic/Parity', 'ConfigParityCheck needs a stack with an explicit region (env.region), but got an environment-agnostic stack'));
  });

  test('a metric names a region that is not checked', () => {
    const check = build({});
    expect(() => check.metricConfigParity({ targetRegion: 'ap-southeast-2' }))
      .toThrow(at('TestStack/Parity', 'ParityMetricOptions.targetRegion must be one of the checked regions ["eu-west-1"], but got "ap-southeast-2"'));
  });
});

test('warns when the check fails open', () => {
  const check = build({ failWhenUnreadable: false });
  const warnings = check.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
  expect(warnings.some((w) => w.includes('failWhenUnreadable is false'))).toBe(true);
  void PRIMARY;
});

describe('dashboards', () => {
  test('its own widgets: the verdict per region, differences, unreadable parts, the handler and the alarms', () => {
    const check = build({ regions: ['eu-west-1', 'ap-southeast-2'] });
    const json = JSON.stringify(Stack.of(check).resolve(check.dashboardWidgets().map((w) => w.toJson())));
    expect(json).toContain('Config parity by region (1 = agrees with the primary)');
    expect(json).toContain('"ConfigParity","TargetRegion","ap-southeast-2"');
    expect(json).toContain('Config parity alarms');
  });

  test('CrossRegionConfigDashboard takes it: a section and a ConfigParity tile per checked region', () => {
    const stack = newStack();
    const check = new ConfigParityCheck(stack, 'Parity', { regions: ['eu-west-1'], parameterPaths: ['/app/prod'] });
    new CrossRegionConfigDashboard(stack, 'Dashboard', { parityCheck: check });
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')) as any[];
    const body = JSON.stringify(stack.resolve(dashboard.Properties.DashboardBody));
    expect(body).toContain('the config parity check (eu-west-1 against us-east-1)');
    expect(body).toContain('Config parity (1 = agrees)');
    expect(body).toContain('Config parity check TestStack/Parity');
  });
});
