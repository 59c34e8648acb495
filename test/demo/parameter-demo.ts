/**
 * The parameter replicator part of the Quick start demo: its real bundle (the Lambda asset from the
 * synthesized cloud assembly, with its synthesized environment) runs against moto server. It
 * replicates a String and a SecureString, writes each replica region's declared endpoint instead of
 * the primary's, follows an update event, and repairs a replica edited in its own region. Values are
 * never printed: only names, types, versions and which value a replica holds.
 */
import { bundleOf, cfnProperties, Demo, describeFunction, elapsed, invokeRecorded, logicalId, step, synthesizedEnvironment } from './support';
import { ParameterReplicatorEnv } from '../../src/parameter-replicator/contract';
import { EXAMPLE_PRIMARY, EXAMPLE_REPLICAS } from '../integ/integ.secret-replicator';

/** The path the demo's parameter replicator selects. */
export const DEMO_REPLICATED_PATH = '/genai-demo/production/shared';
/** The parameter whose value differs by region: declared with `ParameterOverride.template`. */
export const DEMO_ENDPOINT_PARAMETER = `${DEMO_REPLICATED_PATH}/api-endpoint`;
/** The template of the endpoint's per-region value. */
export const DEMO_ENDPOINT_TEMPLATE = 'https://api.{region}.genai-demo.example.com';

/** What the parameter part found. */
export interface ParameterFacts {
  /** Replicas that held the expected value (the primary's, or the declared override) after the first reconcile. */
  readonly agreeing: number;
}

/** Runs the parameter replicator's bundle against the emulator. */
export async function runParameterReplicator(demo: Demo): Promise<ParameterFacts> {
  const { config: stack, configResources: resources, world } = demo;
  const replicator = stack.parameters;
  const fn = cfnProperties(resources, replicator.handler);
  const bundle = bundleOf(demo.outdir, stack, fn);

  step('Parameter replicator: the function as synthesized, and three parameters in the primary region');
  console.log(`  ${describeFunction('parameter replicator', fn, bundle, demo.outdir)}`);
  demo.refs[logicalId(replicator.provenanceKey)] = await world.create(EXAMPLE_PRIMARY, 'demo/parameter-provenance-key',
    world.newValue('parameter-provenance-key-0123456789abcdef0123456789abcdef'));
  const env: NodeJS.ProcessEnv = { ...demo.awsEnv, ...synthesizedEnvironment(fn, demo.refs) };
  console.log(`  selection ${env[ParameterReplicatorEnv.SELECTION]}; overrides declared for ${
    JSON.parse(env[ParameterReplicatorEnv.OVERRIDES] ?? '[]').map((o: any) => `${o.name} in ${o.region}`).join(', ')}`);

  const flags = `${DEMO_REPLICATED_PATH}/feature-flags`;
  const token = `${DEMO_REPLICATED_PATH}/partner-token`;
  await world.putParameter(EXAMPLE_PRIMARY, flags, world.newValue('flags'));
  await world.putParameter(EXAMPLE_PRIMARY, token, world.newValue('token'), 'SecureString');
  await world.putParameter(EXAMPLE_PRIMARY, DEMO_ENDPOINT_PARAMETER, DEMO_ENDPOINT_TEMPLATE.replace('{region}', EXAMPLE_PRIMARY));

  const invoke = async (label: string, payload: unknown): Promise<any> => {
    const started = process.hrtime.bigint();
    const { result, error } = await invokeRecorded(demo, bundle, env, payload);
    if (error !== undefined) throw new Error(`${label}: the parameter replicator failed: ${error}`);
    console.log(`${label}: ${JSON.stringify(result.outcomes ?? result)} in ${elapsed(started)} (cold start included)`);
    return result;
  };
  /** Each replica: which value it holds, never the value. */
  const show = async (): Promise<number> => {
    let agreeing = 0;
    for (const name of [flags, token, DEMO_ENDPOINT_PARAMETER]) {
      const primary = await world.parameter(EXAMPLE_PRIMARY, name);
      const states = [];
      for (const region of EXAMPLE_REPLICAS) {
        const replica = await world.parameter(region, name);
        const override = name === DEMO_ENDPOINT_PARAMETER ? DEMO_ENDPOINT_TEMPLATE.replace('{region}', region) : undefined;
        const holds = replica === undefined ? 'missing'
          : override !== undefined && replica.value === override ? 'its declared override'
            : replica.value === primary?.value ? 'the primary\'s value' : 'another value';
        if (holds === (override !== undefined ? 'its declared override' : 'the primary\'s value')) agreeing++;
        states.push(`${region}: ${replica?.type ?? '-'}, ${holds}`);
      }
      console.log(`  ${name} -> ${states.join('; ')}`);
    }
    return agreeing;
  };

  await invoke('scheduled reconcile', { action: 'reconcile' });
  const agreeing = await show();

  step('A change in the primary arrives as a Parameter Store Change event');
  await world.putParameter(EXAMPLE_PRIMARY, flags, world.newValue('flags-v2'));
  await invoke('Update event', {
    'source': 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    'region': EXAMPLE_PRIMARY,
    'time': new Date().toISOString(),
    'detail': { operation: 'Update', name: flags, type: 'String' },
  });
  await show();

  step('Someone sets eu-west-1\'s endpoint to the primary\'s value by hand; the next reconcile writes the declared override back');
  await world.putParameter('eu-west-1', DEMO_ENDPOINT_PARAMETER, DEMO_ENDPOINT_TEMPLATE.replace('{region}', EXAMPLE_PRIMARY));
  await invoke('{"action":"test_sync"} (dry run)', { action: 'test_sync' });
  await invoke('scheduled reconcile (primary wins)', { action: 'reconcile' });
  await show();
  return { agreeing };
}
