import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CrossRegionConfigManagement, CrossRegionConfigManagementProps, ParameterOverride, ParameterSelection } from '../../src';

function build(overrides: Partial<CrossRegionConfigManagementProps> = {}) {
  const stack = new Stack(new App(), 'ConfigStack', { env: { account: '111111111111', region: 'us-east-1' } });
  const management = new CrossRegionConfigManagement(stack, 'Config', {
    environment: 'production', projectName: 'genai-demo', replicationRegions: ['eu-west-1', 'ap-southeast-1'], ...overrides,
  });
  return { stack, management };
}

const functionEnv = (template: Template, name: string): Record<string, any> => (Object.values(template.findResources('AWS::Lambda::Function'))
  .find((f: any) => f.Properties.FunctionName === name) as any).Properties.Environment.Variables;

describe('CrossRegionConfigManagement parameterReplication', () => {
  test('default: no parameter replicator', () => {
    const { management, stack } = build();
    expect(management.parameterReplicator).toBeUndefined();
    expect(Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map((f: any) => f.Properties.FunctionName))
      .not.toContain('genai-demo-production-parameter-sync');
  });

  test('replicates the project path except the settings documents, with its own document, alarms and dashboard section', () => {
    const { management, stack } = build({ parameterReplication: {}, dashboard: true });
    const replicator = management.parameterReplicator!;
    expect(replicator).toBeDefined();
    const template = Template.fromStack(stack);
    const env = functionEnv(template, 'genai-demo-production-parameter-sync');
    expect(JSON.parse(env.PARAMETER_SELECTION)).toEqual({ paths: ['/genai-demo/production'], excludedPaths: ['/genai-demo/production/global/secrets'] });
    expect(JSON.parse(env.REPLICA_TARGETS)).toEqual([{ region: 'eu-west-1' }, { region: 'ap-southeast-1' }]);
    expect(env.CONFIG_PARAMETER_NAME).toBe('/genai-demo/production/global/secrets/parameter-replication-config');
    expect(management.configParameters).toContain(replicator.configParameter);
    for (const alarm of replicator.alarms) expect(management.alarms).toContain(alarm);
    expect(JSON.stringify(stack.resolve((management.dashboard!.dashboard.node.defaultChild as any).dashboardBody))).toContain('Parameter replicator');
  });

  test('the drift detector compares the replicated paths, expects the overrides and ignores the excluded paths', () => {
    const { stack } = build({
      parameterReplication: {
        parameters: ParameterSelection.fromPaths(['/genai-demo/production/app'], { excludedPaths: ['/genai-demo/production/app/local'] }),
        overrides: [ParameterOverride.template('/genai-demo/production/app/endpoint', 'https://{region}.example.com')],
      },
    });
    const env = functionEnv(Template.fromStack(stack), 'genai-demo-production-drift-detection');
    expect(JSON.parse(env.PARAMETER_PATHS)).toEqual(['/genai-demo/production/app']);
    expect(JSON.parse(env.PARAMETER_OVERRIDES)).toEqual([
      { name: '/genai-demo/production/app/endpoint', region: 'eu-west-1', value: 'https://eu-west-1.example.com' },
      { name: '/genai-demo/production/app/endpoint', region: 'ap-southeast-1', value: 'https://ap-southeast-1.example.com' },
    ]);
    expect(JSON.parse(env.IGNORE_RULES)).toEqual(expect.arrayContaining([{ kind: 'parameter', namePattern: '/genai-demo/production/app/local/**' }]));
  });

  test('driftDetection.parameterPaths wins, with the overrides below them only', () => {
    const { stack } = build({
      driftDetection: { parameterPaths: ['/genai-demo/production/other'] },
      parameterReplication: {
        parameters: ParameterSelection.fromPaths(['/genai-demo/production/app']),
        overrides: [ParameterOverride.template('/genai-demo/production/app/endpoint', 'https://{region}.example.com')],
      },
    });
    const env = functionEnv(Template.fromStack(stack), 'genai-demo-production-drift-detection');
    expect(JSON.parse(env.PARAMETER_PATHS)).toEqual(['/genai-demo/production/other']);
    expect(env).not.toHaveProperty('PARAMETER_OVERRIDES');
  });

  test('alarms are routed to the alerting topic', () => {
    const stack = new Stack(new App(), 'ConfigStack', { env: { account: '111111111111', region: 'us-east-1' } });
    const topic = new sns.Topic(stack, 'Alerts');
    const management = new CrossRegionConfigManagement(stack, 'Config', {
      environment: 'production', projectName: 'genai-demo', replicationRegions: ['eu-west-1'], parameterReplication: {}, alertingTopic: topic,
    });
    const template = Template.fromStack(stack);
    const ids = management.parameterReplicator!.alarms.map((a) => stack.getLogicalId((a as any).node.defaultChild));
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as any) };
    for (const id of ids) expect(template.toJSON().Resources[id].Properties.AlarmActions).toEqual([topicRef]);
  });
});
