import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildRegionSwitchExampleApp, EXAMPLE_STANDBY } from '../integ/integ.parity-region-switch';

const REPO = path.resolve(__dirname, '../..');
const CFN_LINT = path.join(REPO, '.cache/cfn-lint-venv/bin/cfn-lint');

describe('the README\'s ARC Region switch plan', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-plan-'));
  const { app, stack } = buildRegionSwitchExampleApp(outdir);
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('runs the parity check as a custom action Lambda step before the standby is activated, skipped when ungraceful', () => {
    const [plan] = Object.values(template.findResources('AWS::ARCRegionSwitch::Plan')) as any[];
    const activate = plan.Properties.Workflows.find((w: any) => w.WorkflowTargetAction === 'activate');
    expect(activate.WorkflowTargetRegion).toBe(EXAMPLE_STANDBY);
    const [step] = activate.Steps;
    expect(step.Name).toBe(`ConfigParity-${EXAMPLE_STANDBY}`);
    expect(step.ExecutionBlockType).toBe('CustomActionLambda');
    const config = step.ExecutionBlockConfiguration.CustomActionLambdaConfig;
    expect(stack.resolve(config.Lambdas[0].Arn)).toEqual(stack.resolve(stack.parity.handler.functionArn));
    expect(config).toMatchObject({ RegionToRun: 'deactivatingRegion', RetryIntervalMinutes: 2, TimeoutMinutes: 30, Ungraceful: { Behavior: 'skip' } });
  });

  test('the plan\'s role may invoke the check and nothing else of it', () => {
    const roleId = stack.getLogicalId(stack.planRole.node.defaultChild as any);
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s: any) => s.Action)).toEqual(['lambda:InvokeFunction', 'lambda:GetFunction']);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'arc-region-switch.amazonaws.com' } }] },
    });
  });

  test('passes cfn-lint (the pinned version of .ci/setup-cfn-lint.sh)', () => {
    execFileSync('bash', [path.join(REPO, '.ci/setup-cfn-lint.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const file = path.join(assembly.directory, stack.templateFile);
    let stdout = '[]';
    try {
      stdout = execFileSync(CFN_LINT, ['--format', 'json', '--regions', 'us-east-1', '--', file], { encoding: 'utf8' });
    } catch (e: any) {
      stdout = e.stdout;
    }
    const findings = (JSON.parse(stdout) as Array<{ Level: string; Rule: { Id: string }; Message: string }>).filter((f) => f.Level !== 'Informational');
    expect(findings.map((f) => `${f.Level} ${f.Rule.Id}: ${f.Message}`)).toEqual([]);
  }, 300_000);
});
