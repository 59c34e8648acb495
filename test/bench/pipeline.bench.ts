/**
 * Benchmark: the MultiRegionPipeline bundle. Not a test: it measures and prints.
 *
 *   npx projen bench           (runs on the Lambda runtime's Node major)
 *
 * - The bundle's size and cold-load time, next to loading the bare SDK clients it contains.
 * - A health-check action: CHECKS checks of ATTEMPTS requests each against a local HTTP server, in
 *   a child process running only the bundle (wall time, CPU per request, peak memory).
 * - A coordinated rollback in a REGIONS-region blue-green pipeline failing in its last region,
 *   against a stand-in for the CodePipeline API: CodePipeline calls made, wall time, CPU, memory.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { startFakeCodePipeline } from '../harness/fake-codepipeline';
import { REPO_ROOT, startMotoServer } from '../harness/moto';

const CHECKS = Number(process.env.BENCH_CHECKS ?? 5);
const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 40);
const REGIONS = Number(process.env.BENCH_REGIONS ?? 20);
const BUNDLE = path.join(REPO_ROOT, 'assets', 'lambda-src', 'multi-region-pipeline', 'index.lambda', 'index.js');
/** Cold loads measured per variant; the median is reported. */
const LOAD_SAMPLES = 7;
const run = promisify(execFile);

interface RunResult {
  result: any;
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMiB: number;
}

/** Runs one invocation in a fresh Node process that loads only the bundle. */
async function invoke(env: NodeJS.ProcessEnv, payload: unknown): Promise<RunResult> {
  const script = `const h=require(${JSON.stringify(BUNDLE)}).handler;const c0=process.cpuUsage();const t0=Date.now();`
    + `h(${JSON.stringify(payload)}).then((r)=>{const c=process.cpuUsage(c0);process.stderr.write('RESULT'+JSON.stringify({result:r,wallMs:Date.now()-t0,`
    + 'cpuUserMs:c.user/1000,cpuSystemMs:c.system/1000,maxRssMiB:process.resourceUsage().maxRSS/1024})+"\\n")},(e)=>{process.stderr.write("ERROR"+e.name+"\\n");process.exit(1)})';
  const { stderr } = await run(process.execPath, ['-e', script], { env, maxBuffer: 64 * 1024 * 1024 });
  const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
  if (!line) throw new Error(`no result: ${stderr.split('\n').filter((l) => l.startsWith('ERROR')).join(' ')}`);
  return JSON.parse(line.slice('RESULT'.length));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function loadTimeMs(code: string, env: NodeJS.ProcessEnv): number {
  const samples: number[] = [];
  for (let i = 0; i < LOAD_SAMPLES; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();${code};console.log(Number(process.hrtime.bigint()-t)/1e6)`],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] });
    samples.push(Number(out.toString().trim()));
  }
  return median(samples);
}

const SDK_CLIENTS = "require('@aws-sdk/client-codepipeline');require('@aws-sdk/client-route-53');require('@aws-sdk/client-ssm');require('@aws-sdk/client-sns')";
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function main() {
  if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
  const base = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', POWERTOOLS_METRICS_NAMESPACE: 'Bench', POWERTOOLS_SERVICE_NAME: 'bench' };

  // --- health checks ---
  const app = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  const health = await startFakeCodePipeline();
  const checks = Array.from({ length: CHECKS }, (_, i) => ({
    name: `check-${i}`, url: `${appUrl}/{region}/${i}`, expectedStatuses: [200], consecutiveSuccesses: ATTEMPTS, maxAttempts: ATTEMPTS, intervalSeconds: 0, timeoutSeconds: 5,
  }));
  const job = { 'CodePipeline.job': { id: 'job-1', data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ region: 'eu-west-1' }) } } } } };
  const healthRun = await invoke({
    ...base, AWS_ENDPOINT_URL_CODEPIPELINE: health.endpoint, [PipelineEnv.ROLE]: 'health-check', [PipelineEnv.HEALTH_CHECKS]: JSON.stringify(checks),
  }, job);
  await health.stop();
  await new Promise((resolve) => app.close(resolve));
  const requests = CHECKS * ATTEMPTS;

  // --- coordinated rollback ---
  const regions = Array.from({ length: REGIONS }, (_, i) => `region-${String(i).padStart(2, '0')}`);
  const config = regions.map((region) => ({
    region, stages: [`${region}-green`, `${region}-shift-to-green`, `${region}-blue`], rollbackStages: [`${region}-blue`, `${region}-green`],
  }));
  const failed = uuid(1000);
  const actionsPerStage = 4;
  const actionExecutionDetails = config.slice(0, -1).flatMap((r) => r.stages.flatMap((stage) => Array.from({ length: actionsPerStage }, (_, a) => ({
    pipelineExecutionId: failed, actionExecutionId: `${stage}-${a}`, stageName: stage, actionName: `Action${a}`, status: 'Succeeded', startTime: 1_795_000_000 + a,
  }))));
  const fake = await startFakeCodePipeline({
    GetPipelineExecution: { pipelineExecution: { pipelineName: 'bench', pipelineExecutionId: failed, status: 'Failed', executionType: 'STANDARD' } },
    ListActionExecutions: { actionExecutionDetails },
    ListPipelineExecutions: {
      pipelineExecutionSummaries: [
        { pipelineExecutionId: failed, status: 'Failed', executionType: 'STANDARD' },
        ...Array.from({ length: 99 }, (_, i) => ({ pipelineExecutionId: uuid(999 - i), status: i === 50 ? 'Succeeded' : 'Failed', executionType: 'STANDARD' })),
      ],
    },
    GetPipelineState: { pipelineName: 'bench', stageStates: config.flatMap((r) => r.stages.map((stageName) => ({ stageName, latestExecution: { pipelineExecutionId: failed, status: 'Succeeded', type: 'STANDARD' } }))) },
    RollbackStage: { pipelineExecutionId: uuid(2000) },
  });
  const lastRegion = regions[regions.length - 1];
  // The watcher claims each stage rollback in Parameter Store (moto).
  const moto = await startMotoServer();
  const watcherEnv = {
    ...base,
    AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint,
    AWS_ENDPOINT_URL_SSM: moto.endpoint,
    [PipelineEnv.ROLLBACK_CLAIMS_PATH]: '/cdk-cross-region-config/pipeline/bench/rollback-claims',
    [PipelineEnv.ROLE]: 'pipeline-watcher',
    [PipelineEnv.PIPELINE_NAME]: 'bench',
    [PipelineEnv.REGIONAL_STAGES]: JSON.stringify(config),
    [PipelineEnv.COORDINATED_ROLLBACK]: 'true',
  };
  const rollbackRun = await invoke(watcherEnv, {
    'version': '0',
    'id': 'bench',
    'detail-type': 'CodePipeline Stage Execution State Change',
    'source': 'aws.codepipeline',
    'account': '111111111111',
    'time': '2026-11-28T10:00:00Z',
    'region': 'us-east-1',
    'resources': ['arn:aws:codepipeline:us-east-1:111111111111:bench'],
    'detail': { 'pipeline': 'bench', 'execution-id': failed, 'stage': `${lastRegion}-shift-to-green`, 'state': 'FAILED', 'version': 1 },
  });
  const calls: Record<string, number> = {};
  for (const c of fake.calls) calls[c.operation] = (calls[c.operation] ?? 0) + 1;
  await fake.stop();
  await moto.stop();
  const started = (rollbackRun.result.rollbacks ?? []).filter((r: any) => r.outcome === 'started').length;

  console.log(JSON.stringify({
    bundle: {
      bytes: fs.statSync(BUNDLE).size,
      coldLoadMs: {
        bundle: +loadTimeMs(`require(${JSON.stringify(BUNDLE)})`, watcherEnv).toFixed(1),
        bareSdkClients: +loadTimeMs(SDK_CLIENTS, watcherEnv).toFixed(1),
      },
    },
    healthCheck: {
      checks: CHECKS,
      requests,
      passed: healthRun.result.passed,
      wallMs: healthRun.wallMs,
      cpuMsPerRequest: +((healthRun.cpuUserMs + healthRun.cpuSystemMs) / requests).toFixed(3),
      maxRssMiB: +healthRun.maxRssMiB.toFixed(1),
    },
    coordinatedRollback: {
      regions: REGIONS,
      stagesRolledBack: started,
      expected: (REGIONS - 1) * 2,
      codePipelineCalls: calls,
      wallMs: rollbackRun.wallMs,
      cpuMs: +(rollbackRun.cpuUserMs + rollbackRun.cpuSystemMs).toFixed(1),
      maxRssMiB: +rollbackRun.maxRssMiB.toFixed(1),
    },
  }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
