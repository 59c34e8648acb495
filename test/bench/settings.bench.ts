/**
 * Benchmark: what a settings document costs at cold start. Not a test: it measures and prints.
 *
 *   npx projen bench           (runs on the Lambda runtime's Node major)
 *
 * A ConfigMap syncer with 50 targets whose CAs are EKS-sized and a replicator with 2,000 named
 * secrets are synthesized; their documents are written into moto as CloudFormation would; then the
 * real bundles run in fresh Node processes (SAMPLES each): the first invocation (which reads the
 * document and validates the settings) against the second (which does not), the
 * GetParametersByPath calls counted by the proxy in front of moto, and peak memory.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SSMClient } from '@aws-sdk/client-ssm';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigMapSyncer, CrossRegionSecretReplicator, KubernetesCluster, SecretSelection } from '../../src';
import { startFaultProxy } from '../harness/fault-proxy';
import { REPO_ROOT, startMotoServer } from '../harness/moto';
import { deployedSettings, DeployedSettings, putParameters } from '../harness/settings-document';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 7);
const REGION = 'us-east-1';
const run = promisify(execFile);

interface Sample {
  firstMs: number;
  secondMs: number;
  maxRssMiB: number;
}

/** Two invocations in a fresh Node process that loads only the bundle. */
async function sample(bundle: string, env: NodeJS.ProcessEnv, payload: unknown): Promise<Sample> {
  const script = `const h=require(${JSON.stringify(bundle)}).handler;const p=${JSON.stringify(payload)};(async()=>{`
    + 'let t=process.hrtime.bigint();await h(p);const a=Number(process.hrtime.bigint()-t)/1e6;'
    + 't=process.hrtime.bigint();await h(p);const b=Number(process.hrtime.bigint()-t)/1e6;'
    + 'process.stderr.write("RESULT"+JSON.stringify({firstMs:a,secondMs:b,maxRssMiB:process.resourceUsage().maxRSS/1024})+"\\n")})()'
    + '.catch((e)=>{process.stderr.write("ERROR"+e.name+" "+e.message+"\\n");process.exit(1)})';
  const { stderr } = await run(process.execPath, ['-e', script], { env, maxBuffer: 64 * 1024 * 1024 });
  const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
  if (!line) throw new Error(`no result: ${stderr.split('\n').filter((l) => l.startsWith('ERROR')).join(' ')}`);
  return JSON.parse(line.slice('RESULT'.length));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function syncerSettings(): DeployedSettings {
  const stack = new Stack(new App(), 'BenchSync', { env: { region: REGION } });
  const ca = Buffer.from('c'.repeat(1088)).toString('base64'); // 1,452 characters, like an EKS CA
  const clusters = Array.from({ length: 10 }, (_, i) => KubernetesCluster.fromClusterAttributes({
    clusterName: `fleet-${i}`, region: 'eu-west-1', clusterEndpoint: `https://${String(i).padStart(32, 'A')}.gr7.eu-west-1.eks.amazonaws.com`, clusterCertificateAuthorityData: ca,
  }));
  new ConfigMapSyncer(stack, 'Syncer', {
    parameterPath: '/app/prod', configMapName: 'app-config', targets: clusters.flatMap((cluster) => ['a', 'b', 'c', 'd', 'e'].map((namespace) => ({ cluster, namespace }))),
  });
  const template = Template.fromStack(stack).toJSON();
  const id = Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::Lambda::Function')!;
  return deployedSettings(template, id);
}

function replicatorSettings(keyArn: string): DeployedSettings {
  const stack = new Stack(new App(), 'BenchReplicator', { env: { region: REGION } });
  const names = Array.from({ length: 2000 }, (_, i) => `fleet/service-${String(i).padStart(4, '0')}/config`);
  new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromNames(...names), replicaRegions: ['eu-west-1'] });
  const template = Template.fromStack(stack).toJSON();
  const id = Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::Lambda::Function')!;
  return deployedSettings(template, id, () => keyArn);
}

async function main(): Promise<void> {
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  try {
    const ssm = new SSMClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, AWS_ENDPOINT_URL: proxy.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION,
    };
    const cases = [
      {
        name: 'ConfigMap syncer, 50 targets with EKS-sized CAs',
        bundle: path.join(REPO_ROOT, 'assets', 'lambda-src', 'configmap-syncer', 'index.lambda', 'index.js'),
        settings: syncerSettings(),
        // An event the handler ignores: the measured work is the settings, not a sync.
        payload: { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { name: '/elsewhere/x', operation: 'Update' } },
      },
      {
        name: 'Replicator, 2,000 named secrets',
        bundle: path.join(REPO_ROOT, 'assets', 'lambda-src', 'secret-replicator', 'index.lambda', 'index.js'),
        settings: replicatorSettings(`arn:aws:secretsmanager:${REGION}:123456789012:secret:bench-key-AbCdEf`),
        payload: { 'source': 'aws.secretsmanager', 'detail-type': 'AWS API Call via CloudTrail', 'detail': { eventName: 'GetSecretValue' } },
      },
    ];
    for (const c of cases) {
      await putParameters(ssm, c.settings.parameters);
      const bytes = c.settings.parameters.reduce((sum, p) => sum + Buffer.byteLength(p.value), 0);
      proxy.resetStats();
      const samples: Sample[] = [];
      for (let i = 0; i < SAMPLES; i++) samples.push(await sample(c.bundle, { ...base, ...c.settings.environment }, c.payload));
      const reads = proxy.stats().byOperation[`ssm:${REGION}:GetParametersByPath`]?.forwarded ?? 0;
      console.log(`${c.name}: document ${(bytes / 1024).toFixed(1)} KiB in ${c.settings.parameters.length} parameters; `
        + `${reads / SAMPLES} GetParametersByPath calls per cold start; first invocation ${median(samples.map((s) => s.firstMs)).toFixed(0)} ms `
        + `(reads and validates the settings), second ${median(samples.map((s) => s.secondMs)).toFixed(1)} ms; `
        + `peak RSS ${median(samples.map((s) => s.maxRssMiB)).toFixed(0)} MiB (medians of ${SAMPLES} fresh processes)`);
    }
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
