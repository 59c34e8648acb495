import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildPipelineExampleApp, EXAMPLE_REGIONS } from '../integ/integ.multi-region-pipeline';

test('the integ app synthesizes a three-region blue-green pipeline with its service stages and support stacks', () => {
  const { app, stack } = buildPipelineExampleApp();
  const assembly = app.synth();
  const stages = (Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'))[0] as any).Properties.Stages.map((s: any) => s.Name);
  expect(stages).toEqual(['Source', 'Build', 'UpdatePipeline', ...EXAMPLE_REGIONS.flatMap((r) => [`${r}-green`, `${r}-shift-to-green`, `${r}-blue`])]);
  // Each region's slots are nested cloud assemblies with one service stack each.
  const nested = stack.pipeline.applicationStages.map((s) => `${s.stageName}:${s.region}`);
  expect(nested).toEqual(EXAMPLE_REGIONS.flatMap((r) => [`${r}-green:${r}`, `${r}-blue:${r}`]));
  expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(expect.arrayContaining(['ExampleServicePipeline']));
  const report = new AwsSolutionsChecks().validateScope(app);
  const pipelineFindings = report.violations.flatMap((v) => v.violatingResources
    .filter((r) => (r.constructPath ?? '').startsWith('ExampleServicePipeline/Pipeline/') && !/\/(us|eu|ap)-[a-z]+-\d-(blue|green)\//.test(r.constructPath ?? ''))
    .map((r) => `${v.ruleName} ${r.constructPath}`));
  expect(pipelineFindings).toEqual([]);
});
