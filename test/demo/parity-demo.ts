/**
 * The ConfigParityCheck part of the Quick start demo: the pipeline's entry condition before each
 * replica region, as synthesized (a CodePipeline V2 `beforeEntry` condition with a LambdaInvoke
 * rule), run as CodePipeline runs it: the check's bundle gets the rule's job and answers with
 * PutJobSuccessResult or PutJobFailureResult (the fake CodePipeline records the answer). A secret
 * the primary has and ap-southeast-2 lacks holds the deployment at ap-southeast-2's gate, by name,
 * until the region is repaired; then the same rule lets it in.
 */
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { bundleOf, cfnProperties, Demo, describeFunction, invokeRecorded, metricSum, step, synthesizedEnvironment } from './support';
import { ParityEnv, TARGET_REGION_DIMENSION } from '../../src/parity-check/contract';
import { startFakeCodePipeline } from '../harness/fake-codepipeline';
import { EXAMPLE_PRIMARY } from '../integ/integ.secret-replicator';

/** The secret the primary gets and ap-southeast-2 misses. */
const NEW_SECRET = 'prod/app/payments-api-key';
const HELD_REGION = 'ap-southeast-2';

/** What the parity part saw, for the summary. */
export interface ParityFacts {
  /** CodePipeline API calls the fake answered. */
  readonly codePipelineCalls: number;
}

/** Runs the parity gate of each replica region as the pipeline's entry conditions would. */
export async function runParityGate(demo: Demo): Promise<ParityFacts> {
  const stack = demo.pipelineStack;
  const fn = cfnProperties(demo.pipelineResources, stack.parity.handler);
  const bundle = bundleOf(demo.outdir, stack, fn);
  // moto cannot age items: the demo's items were written seconds ago, so check as ten minutes later.
  const env: NodeJS.ProcessEnv = { ...demo.awsEnv, ...synthesizedEnvironment(fn, demo.refs), [ParityEnv.GRACE_WINDOW_SECONDS]: '0' };

  step('Config parity gate: the function as synthesized and the entry condition of each replica region');
  console.log(`  ${describeFunction('parity check', fn, bundle, demo.outdir)}`);
  const [pipeline] = Object.values(demo.pipelineResources).filter((r) => r.Type === 'AWS::CodePipeline::Pipeline');
  const gates: Array<{ stage: string; rule: string; region: string }> = [];
  for (const s of pipeline.Properties.Stages) {
    for (const c of s.BeforeEntry?.Conditions ?? []) {
      for (const r of c.Rules.filter((x: any) => x.RuleTypeId.Provider === 'LambdaInvoke')) {
        gates.push({ stage: s.Name, rule: r.Name, region: JSON.parse(r.Configuration.UserParameters).region });
        console.log(`  stage ${s.Name}: beforeEntry ${c.Result} unless rule ${r.Name} (LambdaInvoke, UserParameters ${r.Configuration.UserParameters}) passes`);
      }
    }
  }

  let codePipelineCalls = 0;
  /** One entry condition's rule run: the job CodePipeline sends, and the answer the check gave. */
  const gate = async (region: string, attempt: string) => {
    const target = gates.find((g) => g.region === region)!;
    const codepipeline = await startFakeCodePipeline();
    try {
      const job = { 'CodePipeline.job': { id: `job-${target.rule}-${attempt}`, data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ region }) } } } } };
      await invokeRecorded(demo, bundle, { ...env, AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint }, job);
      codePipelineCalls += codepipeline.calls.length;
      const [answer] = codepipeline.calls;
      const passed = answer.operation === 'PutJobSuccessResult';
      const text = passed ? answer.input.executionDetails.summary : answer.input.failureDetails.message;
      console.log(`  ${target.stage}: rule ${target.rule} -> ${answer.operation}: ${text}`);
      console.log(`  => ${passed ? `the deployment enters ${target.stage}` : `the deployment is HELD before ${target.stage}; nothing is deployed to ${region}`}`);
      demo.outputs.push(JSON.stringify(answer.input));
      return passed;
    } finally {
      await codepipeline.stop();
    }
  };

  step(`A new secret ${NEW_SECRET} is written in ${EXAMPLE_PRIMARY} and reaches eu-west-1, but not ${HELD_REGION}`);
  const value = demo.world.newValue('payments-api-key');
  for (const region of [EXAMPLE_PRIMARY, 'eu-west-1']) {
    await demo.world.client(region).send(new CreateSecretCommand({
      Name: NEW_SECRET, SecretString: value, ...(region === 'eu-west-1' ? { KmsKeyId: 'alias/app-secrets' } : {}),
    }));
  }

  step('The next execution reaches each region\'s entry condition');
  const held: string[] = [];
  for (const region of ['eu-west-1', HELD_REGION]) if (!await gate(region, 'first')) held.push(region);
  if (!held.includes(HELD_REGION)) throw new Error(`expected ${HELD_REGION} to be held: it lacks ${NEW_SECRET}`);

  step(`Repair: each item the checks named is copied from ${EXAMPLE_PRIMARY} (values in memory only); CodePipeline re-evaluates the conditions`);
  for (const region of held) {
    const check = await invokeRecorded(demo, bundle, env, { action: 'check', region });
    for (const d of check.result.differences) {
      await repair(demo, d.kind, d.name, region);
      console.log(`  repaired ${d.kind} ${d.name} in ${region} (${d.driftType})`);
    }
  }
  for (const region of held) if (!await gate(region, 'retry')) throw new Error(`expected ${region} to agree after the repair`);

  step('Failover readiness: the schedule checks every region and publishes ConfigParity');
  const scheduled = await invokeRecorded(demo, bundle, env, { action: 'check_all' });
  for (const r of scheduled.result.results) {
    console.log(`  ${r.targetRegion}: ConfigParity ${metricSum(scheduled.logs, 'ConfigParity', TARGET_REGION_DIMENSION, r.targetRegion)} (${r.summary})`);
  }
  return { codePipelineCalls };
}

/** Copies one item from the primary into `region`, as an operator would (the value never leaves memory). */
async function repair(demo: Demo, kind: string, name: string, region: string): Promise<void> {
  if (kind === 'parameter') {
    const primary = (await demo.world.parameter(EXAMPLE_PRIMARY, name))!;
    await demo.world.putParameter(region, name, primary.value!, primary.type as any);
    return;
  }
  if (kind !== 'secret') throw new Error(`the demo repairs secrets and parameters, not ${kind}`);
  const value = (await demo.world.value(EXAMPLE_PRIMARY, name)) as string;
  const kmsKey = region === 'eu-west-1' ? { KmsKeyId: 'alias/app-secrets' } : {};
  try {
    await demo.world.client(region).send(new CreateSecretCommand({ Name: name, SecretString: value, ...kmsKey }));
  } catch (e) {
    if ((e as Error).name !== 'ResourceExistsException') throw e;
    await demo.world.client(region).send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  }
}
