import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CrossRegionConfigManagement, CrossRegionConfigManagementProps, ParameterOverride } from '../../src';
import { ParityEnv } from '../../src/parity-check/contract';

function build(overrides: Partial<CrossRegionConfigManagementProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'SecretsStack', { env: { account: '111111111111', region: 'us-east-1' } });
  const alertingTopic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });
  const management = new CrossRegionConfigManagement(stack, 'Secrets', {
    environment: 'production',
    projectName: 'genai-demo',
    enableMultiRegion: true,
    replicationRegions: ['eu-west-1', 'ap-southeast-2'],
    alertingTopic,
    ...overrides,
  });
  return { app, stack, management, template: Template.fromStack(stack) };
}

describe('CrossRegionConfigManagement configParity', () => {
  test('is off by default', () => {
    const { management } = build();
    expect(management.configParity).toBeUndefined();
  });

  test('checks what the drift detector compares, routes its alarms to the topic, and shows it on the dashboard', () => {
    const { stack, management, template, app } = build({ configParity: true, driftDetection: { parameterPaths: ['/genai-demo/production/app'] } });
    const check = management.configParity!;
    expect(check.checkedRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')).filter((f: any) => f.Properties.Environment?.Variables?.[ParityEnv.TARGETS]) as any[];
    expect(fn.Properties.Environment.Variables[ParityEnv.PARAMETER_PATHS]).toBe('["/genai-demo/production/app"]');
    for (const alarm of check.alarms) {
      expect(JSON.stringify(stack.resolve((alarm.node.defaultChild as any).alarmActions))).toContain('Alerts');
    }
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as any[];
    expect(JSON.stringify(stack.resolve(dashboard.Properties.DashboardBody))).toContain('Config parity check SecretsStack/Secrets/ConfigParity');
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith('SecretsStack/Secrets/ConfigParity/'))
      .map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
  });

  test('without drift detection it checks the replicated secrets', () => {
    const { management } = build({ configParity: true, driftDetection: { enabled: false } });
    expect(management.configParity!.checkedRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
  });

  describe('with parameterReplication', () => {
    const parameterReplication = {
      overrides: [
        ParameterOverride.template('/genai-demo/production/app/endpoint', 'https://api.{region}.example.com'),
        ParameterOverride.forRegion('/genai-demo/production/app/ami', 'ap-southeast-2', 'ami-0123456789abcdef0'),
      ],
    };
    const DECLARED = [
      { name: '/genai-demo/production/app/endpoint', region: 'eu-west-1', value: 'https://api.eu-west-1.example.com' },
      { name: '/genai-demo/production/app/endpoint', region: 'ap-southeast-2', value: 'https://api.ap-southeast-2.example.com' },
      { name: '/genai-demo/production/app/ami', region: 'ap-southeast-2', value: 'ami-0123456789abcdef0' },
    ];
    const parityEnv = (template: Template): Record<string, any> => {
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function'))
        .filter((f: any) => f.Properties.Environment?.Variables?.[ParityEnv.TARGETS]) as any[];
      return fn.Properties.Environment.Variables;
    };

    test('the check sees the replicated parameter paths and expects their declared per-region values (through the drift detector)', () => {
      const { template } = build({ configParity: true, parameterReplication });
      const env = parityEnv(template);
      expect(JSON.parse(env[ParityEnv.PARAMETER_PATHS])).toEqual(['/genai-demo/production']);
      expect(JSON.parse(env[ParityEnv.PARAMETER_OVERRIDES])).toEqual(DECLARED);
      // The settings documents exist in the primary region only: never compared.
      expect(JSON.parse(env[ParityEnv.IGNORE_RULES])).toContainEqual({ kind: 'parameter', namePattern: '/genai-demo/production/global/secrets/**' });
    });

    test('without drift detection the check takes the parameter replicator\'s paths, overrides and excluded paths itself', () => {
      const { template, management } = build({ configParity: true, parameterReplication, driftDetection: { enabled: false } });
      const env = parityEnv(template);
      expect(JSON.parse(env[ParityEnv.PARAMETER_PATHS])).toEqual(['/genai-demo/production']);
      expect(JSON.parse(env[ParityEnv.PARAMETER_OVERRIDES])).toEqual(DECLARED);
      expect(JSON.parse(env[ParityEnv.IGNORE_RULES])).toEqual([{ kind: 'parameter', namePattern: '/genai-demo/production/global/secrets/**' }]);
      expect(env[ParityEnv.SECRET_SELECTION]).toBeDefined();
      expect(management.configParity!.checkedRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    });
  });
});
