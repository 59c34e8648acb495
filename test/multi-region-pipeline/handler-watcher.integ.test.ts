/**
 * The pipeline watcher's rollback claims for real: Parameter Store in moto server, and a duplicate
 * failure event handled by the shipped bundle in two OS processes at the same time, against the
 * CodePipeline stand-in (test/harness/fake-codepipeline.ts) answering from its pipeline model, each
 * answer held back so that the two processes overlap.
 *
 * moto gap: moto enforces no IAM; the construct tests check the watcher may write only under its
 * claims path.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ALL_STAGES, EVENT, FAILED, failedWorld, PIPELINE, ROLLBACK_STAGES, SETTINGS } from './pipeline-world';
import { claimStage, completeClaim, releaseClaim, SsmClaimStore } from '../../lambda-src/multi-region-pipeline/rollback-claims';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { startFakeCodePipeline } from '../harness/fake-codepipeline';
import { awsTestEnv, MotoServer, REPO_ROOT, startMotoServer } from '../harness/moto';

const run = promisify(execFile);
const BUNDLE = path.join(REPO_ROOT, 'assets', 'lambda-src', 'multi-region-pipeline', 'index.lambda', 'index.js');
const CLAIMS = SETTINGS.rollbackClaimsPath!;

let moto: MotoServer;
let ssm: SSMClient;

beforeAll(async () => {
  moto = await startMotoServer();
  ssm = new SSMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterEach(() => moto.reset());
afterAll(async () => {
  ssm?.destroy();
  await moto?.stop();
});

async function claimsIn(prefix: string): Promise<Record<string, any>> {
  const out = await ssm.send(new GetParametersByPathCommand({ Path: prefix, Recursive: true }));
  return Object.fromEntries((out.Parameters ?? []).map((p) => [p.Name!.slice(prefix.length + 1), JSON.parse(p.Value!)]));
}

describe('SsmClaimStore on Parameter Store', () => {
  test('a create of an existing claim fails (ParameterAlreadyExists) and leaves it; the holder\'s overwrite replaces it', async () => {
    const store = new SsmClaimStore(ssm);
    const name = `${CLAIMS}/one/stage/1`;
    expect(await store.create(name, '{"state":"claimed","owner":"a","leaseUntil":1}')).toBe(true);
    expect(await store.create(name, '{"state":"claimed","owner":"b","leaseUntil":2}')).toBe(false);
    expect(await store.read(name)).toBe('{"state":"claimed","owner":"a","leaseUntil":1}');
    await store.overwrite(name, '{"state":"done","owner":"a","outcome":"started"}');
    expect(await store.read(name)).toBe('{"state":"done","owner":"a","outcome":"started"}');
    expect(await store.read(`${CLAIMS}/none`)).toBeUndefined();
  });

  test('of ten concurrent claims of one stage exactly one is held; the others see it busy, then its outcome', async () => {
    const store = new SsmClaimStore(ssm);
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => claimStage(store, CLAIMS, FAILED, 'eu-west-1-blue', `owner-${i}`, now + 60_000, now)));
    const held = results.filter((r) => r.kind === 'held');
    expect(held).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'busy')).toHaveLength(9);
    await completeClaim(store, (held[0] as any).claim, 'started', 'rollback-1');
    expect(await claimStage(store, CLAIMS, FAILED, 'eu-west-1-blue', 'late', now + 60_000, now))
      .toEqual({ kind: 'done', record: { state: 'done', owner: (held[0] as any).claim.owner, outcome: 'started', rollbackExecutionId: 'rollback-1' } });
  });

  test('a released claim, or one whose lease has run out, lets the next claim take the stage over (generation 2, 3)', async () => {
    const store = new SsmClaimStore(ssm);
    const now = Date.now();
    const first = await claimStage(store, CLAIMS, FAILED, 'us-east-1-blue', 'a', now + 1_000, now);
    expect(first.kind).toBe('held');
    await releaseClaim(store, (first as any).claim);
    const second = await claimStage(store, CLAIMS, FAILED, 'us-east-1-blue', 'b', now + 1_000, now);
    expect(second).toMatchObject({ kind: 'held', claim: { owner: 'b' } });
    // b dies holding it; once its lease has run out, c takes over.
    expect((await claimStage(store, CLAIMS, FAILED, 'us-east-1-blue', 'c', now + 1_000, now)).kind).toBe('busy');
    const third = await claimStage(store, CLAIMS, FAILED, 'us-east-1-blue', 'c', now + 10_000, now + 2_000);
    expect(third).toMatchObject({ kind: 'held', claim: { owner: 'c' } });
    expect(Object.keys(await claimsIn(`${CLAIMS}/${FAILED}`))).toEqual(['us-east-1-blue/1', 'us-east-1-blue/2', 'us-east-1-blue/3']);
  });

  test('a stage name with @ and _ gets a valid, distinct parameter name', async () => {
    const store = new SsmClaimStore(ssm);
    const now = Date.now();
    expect((await claimStage(store, CLAIMS, FAILED, 'Deploy@eu_west', 'a', now + 1_000, now)).kind).toBe('held');
    expect((await claimStage(store, CLAIMS, FAILED, 'Deploy_40eu_west', 'a', now + 1_000, now)).kind).toBe('held');
  });

  test('removes the claims last written before the cut-off, and only those, under its path only', async () => {
    const store = new SsmClaimStore(ssm);
    for (let i = 0; i < 23; i++) await store.create(`${CLAIMS}/exec-${i}/stage/1`, '{"state":"released","owner":"a"}');
    await store.create('/other/path/keep', 'x');
    expect(await store.deleteOlderThan(CLAIMS, Date.now() - 60_000)).toBe(0);
    expect(await store.deleteOlderThan(CLAIMS, Date.now() + 60_000)).toBe(23);
    expect(await claimsIn(CLAIMS)).toEqual({});
    expect(await store.read('/other/path/keep')).toBe('x');
  });
});

describe('a duplicate failure event in two processes at once', () => {
  /** Runs the bundle's handler on `event` in a child process; its result, or the error's name. */
  async function invoke(env: Record<string, string | undefined>, event: unknown): Promise<any> {
    const script = `require(${JSON.stringify(BUNDLE)}).handler(${JSON.stringify(event)})`
      + '.then((r) => process.stderr.write("RESULT" + JSON.stringify(r) + "\\n"), (e) => { process.stderr.write("ERROR" + e.name + "\\n"); process.exit(1); })';
    const { stderr } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, timeout: 120_000 });
    const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
    return JSON.parse(line!.slice('RESULT'.length));
  }

  test('the shipped bundle exists', () => {
    expect(fs.statSync(BUNDLE).size).toBeGreaterThan(100_000);
  });

  test('rolls each of the four stages back once (not eight times), though the first RollbackStage meets ConflictException', async () => {
    const model = failedWorld();
    // As in the report: the first RollbackStage is refused while the failed stage rolls itself back.
    model.conflictNext('eu-west-1-blue', 1);
    // Every answer is held back 250 ms, so the two processes read and claim side by side.
    const fake = await startFakeCodePipeline({}, { model, delayMs: 250 });
    try {
      const env = {
        ...awsTestEnv(moto.endpoint),
        AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint,
        POWERTOOLS_SERVICE_NAME: 'OrdersReleasePipeline',
        POWERTOOLS_METRICS_NAMESPACE: 'Test/MultiRegionPipeline',
        [PipelineEnv.ROLE]: 'pipeline-watcher',
        [PipelineEnv.PIPELINE_NAME]: PIPELINE,
        [PipelineEnv.REGIONAL_STAGES]: JSON.stringify(SETTINGS.regions),
        [PipelineEnv.COORDINATED_ROLLBACK]: 'true',
        [PipelineEnv.ROLLBACK_CLAIMS_PATH]: CLAIMS,
      };

      const [a, b] = await Promise.all([invoke(env, EVENT), invoke(env, EVENT)]);

      // CodePipeline saw one successful RollbackStage per stage, each replacing the failed execution.
      expect(model.rollbacks.map((r) => r.stage).sort()).toEqual([...ROLLBACK_STAGES].sort());
      expect(model.rollbacks.every((r) => r.replaced?.pipelineExecutionId === FAILED)).toBe(true);
      const attempts = model.calls.filter((c) => c.operation === 'RollbackStage');
      expect(attempts.filter((c) => c.error === undefined)).toHaveLength(4);
      expect(attempts.filter((c) => c.error !== undefined).map((c) => c.error)).toEqual(['ConflictException']);
      // Both processes ran side by side: each read the execution before either rolled anything back.
      const firstRollback = model.calls.findIndex((c) => c.operation === 'RollbackStage');
      expect(model.calls.slice(0, firstRollback).filter((c) => c.operation === 'GetPipelineExecution')).toHaveLength(2);
      // Each stage: one process started it, the other reports that process's rollback.
      for (const stage of ROLLBACK_STAGES) {
        const reports = [a, b].map((r) => r.rollbacks.find((x: any) => x.stage === stage));
        expect(reports.map((r) => r.outcome).sort()).toEqual(['already-rolled-back', 'started']);
        expect(reports[0].rollbackExecutionId).toBe(reports[1].rollbackExecutionId);
      }
      // One claim per stage, each done by the process that started it.
      const claims = await claimsIn(`${CLAIMS}/${FAILED}`);
      expect(Object.keys(claims).sort()).toEqual(ROLLBACK_STAGES.map((s) => `${s}/1`).sort());
      expect(Object.values(claims).every((c) => c.state === 'done' && c.outcome === 'started')).toBe(true);
      expect(ALL_STAGES.filter((s) => !ROLLBACK_STAGES.includes(s)).some((s) => `${s}/1` in claims)).toBe(false);
    } finally {
      await fake.stop();
    }
  }, 180_000);
});
