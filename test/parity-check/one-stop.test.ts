import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CrossRegionConfigManagement, CrossRegionConfigManagementProps } from '../../src';
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
});
