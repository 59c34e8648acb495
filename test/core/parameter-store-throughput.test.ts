import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HIGHER_THROUGHPUT_QUOTAS, Pacer, quotasOf } from '../../lambda-src/shared/pacing';
import {
  ConfigDriftDetector, ConfigMapSyncer, ConfigParityCheck, CrossRegionConfigManagement, CrossRegionParameterReplicator, CrossRegionSecretReplicator,
  KubernetesCluster, MultiRegionPipeline, ParameterSelection, ParameterStoreThroughput, SecretSelection,
} from '../../src';
import { PARAMETER_STORE_THROUGHPUT_ENV } from '../../src/core/run-contract';
import { ACCOUNT, minimalProps, PRIMARY } from '../multi-region-pipeline/util';
import { newStack } from '../secret-replicator/util';

/**
 * Parameter Store's throughput setting: with the standard throughput, GetParameter, GetParameters
 * and GetParametersByPath count against one quota of 40 calls a second per account and region
 * (AWS Systems Manager endpoints and quotas, "Max throughput"); with higher throughput turned on,
 * GetParametersByPath has 100 and the reads by name 3,000. The handlers' pacer must follow the
 * setting the construct is told, or higher throughput (charged per call) would buy nothing.
 */

function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => { now += ms; } };
}

/** Milliseconds `calls` take, each `[operation]` acquired in turn in one region. */
async function elapsed(pacer: Pacer, clock: ReturnType<typeof fakeClock>, operations: string[]): Promise<number> {
  const start = clock.now();
  for (const op of operations) await pacer.acquire('ssm', 'eu-west-1', op);
  return clock.now() - start;
}

const MIXED = Array.from({ length: 41 }, (_, i) => ['GetParameter', 'GetParameters', 'GetParametersByPath'][i % 3]);

test('standard throughput: the three reads share one lane of 40 a second (paced at 80%)', async () => {
  const clock = fakeClock();
  const pacer = new Pacer({ quotas: quotasOf({}), share: 1, now: clock.now, sleep: clock.sleep });
  // 41 reads of the three kinds at 40 a second together: the 41st leaves one second after the first.
  expect(await elapsed(pacer, clock, MIXED)).toBe(1000);
  expect(pacer.stats().map((s) => s.group)).toEqual(['ssm:read']);
  // The default share leaves 20% to other callers; the default quotas follow the environment.
  const paced = fakeClock();
  expect(await elapsed(new Pacer({ now: paced.now, sleep: paced.sleep }), paced, MIXED)).toBe(1250);
});

test('higher throughput: GetParametersByPath at 100 a second, the reads by name at 3,000, apart', async () => {
  expect(quotasOf({ [PARAMETER_STORE_THROUGHPUT_ENV]: 'higher' })).toBe(HIGHER_THROUGHPUT_QUOTAS);
  expect(quotasOf({ [PARAMETER_STORE_THROUGHPUT_ENV]: 'standard' })).not.toBe(HIGHER_THROUGHPUT_QUOTAS);
  const clock = fakeClock();
  const pacer = new Pacer({ quotas: quotasOf({ [PARAMETER_STORE_THROUGHPUT_ENV]: 'higher' }), share: 1, now: clock.now, sleep: clock.sleep });
  expect(await elapsed(pacer, clock, Array(101).fill('GetParametersByPath'))).toBe(1000);
  // The reads by name do not wait for the listing's lane.
  expect(await elapsed(pacer, clock, ['GetParameters'])).toBe(0);
  expect(await elapsed(pacer, clock, Array(3000).fill('GetParameter'))).toBeCloseTo(1000, 6);
  // Secrets Manager's quotas are the same either way.
  expect(HIGHER_THROUGHPUT_QUOTAS.filter((q) => q.service === 'secretsmanager')).toEqual(quotasOf({}).filter((q) => q.service === 'secretsmanager'));
});

describe('parameterStoreThroughput', () => {
  const builders: Array<[string, (higher: boolean) => ReturnType<typeof newStack>]> = [
    ['CrossRegionParameterReplicator', (higher) => {
      const stack = newStack();
      new CrossRegionParameterReplicator(stack, 'C', {
        parameters: ParameterSelection.fromPaths(['/app/prod']),
        replicaRegions: ['eu-west-1'],
        ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}),
      });
      return stack;
    }],
    ['ConfigDriftDetector', (higher) => {
      const stack = newStack();
      new ConfigDriftDetector(stack, 'C', {
        replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'], ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}),
      });
      return stack;
    }],
    ['ConfigParityCheck', (higher) => {
      const stack = newStack();
      new ConfigParityCheck(stack, 'C', {
        regions: ['eu-west-1'], parameterPaths: ['/app/prod'], ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}),
      });
      return stack;
    }],
    ['CrossRegionConfigManagement (every handler it creates)', (higher) => {
      const stack = newStack();
      new CrossRegionConfigManagement(stack, 'C', {
        environment: 'production',
        projectName: 'app',
        replicationRegions: ['eu-west-1'],
        parameterReplication: {},
        ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}),
      });
      return stack;
    }],
    ['MultiRegionPipeline', (higher) => {
      const stack = new Stack(new App(), 'Pipeline', { env: { account: ACCOUNT, region: PRIMARY } });
      new MultiRegionPipeline(stack, 'C', { ...minimalProps(), ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}) });
      return stack;
    }],
    ['ConfigMapSyncer', (higher) => {
      const stack = newStack();
      new ConfigMapSyncer(stack, 'C', {
        parameterPath: '/app/prod/config',
        configMapName: 'app-config',
        targets: [{ cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' }) }],
        ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}),
      });
      return stack;
    }],
    ['CrossRegionSecretReplicator', (higher) => {
      const stack = newStack();
      new CrossRegionSecretReplicator(stack, 'C', {
        secrets: SecretSelection.byNamePrefix('prod/'),
        replicaRegions: ['eu-west-1'],
        ...(higher ? { parameterStoreThroughput: ParameterStoreThroughput.HIGHER } : {}),
      });
      return stack;
    }],
  ];

  test.each(builders)('%s tells its handler HIGHER, and says nothing by default (templates unchanged)', (_name, build) => {
    const environment = (higher: boolean) => Object.values(Template.fromStack(build(higher)).findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment?.Variables ?? {});
    // Every handler the construct creates is told (not only one of them).
    expect(environment(true).every((v) => v[PARAMETER_STORE_THROUGHPUT_ENV] === 'higher')).toBe(true);
    expect(environment(false).every((v) => v[PARAMETER_STORE_THROUGHPUT_ENV] === undefined)).toBe(true);
  });
});
