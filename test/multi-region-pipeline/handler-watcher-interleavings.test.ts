/**
 * The coordinated rollback under concurrency, against a model of CodePipeline (test/harness/
 * fake-codepipeline.ts) and an in-memory claim store with Parameter Store's create-only write:
 * a newer execution that runs a stage while the watcher waits out a ConflictException, and seeded
 * random interleavings of duplicate invocations, a newer release, rollbacks finishing and a busy
 * pipeline. Every call to the model or the store is a scheduler point where the next step is chosen
 * at random, so each run is one interleaving, the same again for the same number.
 *
 * Invariants (checked after every run): one failure rolls each stage back at most once; a rollback
 * only ever replaces the failed execution in a stage, never a newer release or a rollback; every
 * stage is decided (rolled back once, or superseded by the newer release); and every invocation
 * reports the same outcome per stage.
 *
 * The model's one timing assumption: a stage run of the newer release spans more scheduler points
 * than the watcher's GetPipelineState and RollbackStage round trip. CodePipeline has no conditional
 * RollbackStage, so a release that entered and left the stage between the two calls (milliseconds
 * in production; a stage deploys for minutes) cannot be seen by any watcher.
 */
import {
  CodePipelineClient, GetPipelineExecutionCommand, GetPipelineStateCommand, ListActionExecutionsCommand,
  ListPipelineExecutionsCommand, RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { MemoryClaimStore } from './memory-claim-store';
import { ALL_STAGES, EVENT, FAILED, failedWorld, NEWER, ROLLBACK_STAGES, SETTINGS } from './pipeline-world';
import { PipelineModel } from '../harness/fake-codepipeline';
import { applyEnv } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const restoreEnv = applyEnv({
  POWERTOOLS_SERVICE_NAME: 'WatcherInterleavings', POWERTOOLS_METRICS_NAMESPACE: 'Test/MultiRegionPipeline', POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_DEV: undefined,
});
// Powertools reads POWERTOOLS_* when the observability module loads, so the watcher is required after.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const watcher: typeof import('../../lambda-src/multi-region-pipeline/watcher') = require('../../lambda-src/multi-region-pipeline/watcher');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { metrics }: typeof import('../../lambda-src/shared/observability') = require('../../lambda-src/shared/observability');
type WatcherOutcome = import('../../lambda-src/multi-region-pipeline/watcher').WatcherOutcome;
type StageRollback = import('../../lambda-src/multi-region-pipeline/watcher').StageRollback;

const output = new OutputCapture();
beforeEach(() => output.start());
afterEach(() => {
  metrics.publishStoredMetrics();
  output.stop();
});
afterAll(() => restoreEnv());

/** A CodePipeline client answered by `model`, with `point()` before every answer. */
function modelClient(model: PipelineModel, point: () => Promise<void> = async () => undefined): CodePipelineClient {
  const client = new CodePipelineClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  const commands = {
    GetPipelineExecution: GetPipelineExecutionCommand,
    GetPipelineState: GetPipelineStateCommand,
    ListActionExecutions: ListActionExecutionsCommand,
    ListPipelineExecutions: ListPipelineExecutionsCommand,
    RollbackStage: RollbackStageCommand,
  };
  for (const [operation, command] of Object.entries(commands)) {
    mock.on(command as any).callsFake(async (input: unknown) => {
      await point();
      return model.handle(operation, input);
    });
  }
  return client;
}

function coordinated(outcome: WatcherOutcome): StageRollback[] {
  if (outcome.action !== 'coordinated') throw new Error(`expected a coordinated rollback, got ${outcome.action}`);
  return outcome.rollbacks;
}

describe('a newer execution runs a stage while the watcher waits out a ConflictException', () => {
  test('every stage the newer execution has run is superseded, and nothing is rolled back', async () => {
    const model = failedWorld();
    model.conflictNext('eu-west-1-blue', 1);
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    const sleeps: number[] = [];
    const outcome = await watcher.handleWatcherEvent(EVENT, SETTINGS, {
      codepipeline: modelClient(model),
      claims: new MemoryClaimStore(async () => undefined, () => clock),
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
        // While the watcher waits, a newer release deploys both earlier regions.
        if (sleeps.length === 1) model.succeed(NEWER, ALL_STAGES.slice(0, 6));
      },
    });

    expect(sleeps).toEqual([5_000]);
    expect(model.rollbacks).toEqual([]);
    expect(coordinated(outcome)).toEqual(ROLLBACK_STAGES.map((stage) => ({ region: stage.replace(/-(blue|green)$/, ''), stage, outcome: 'superseded' })));
    // The state was read again after the wait, before each stage's decision.
    const reads = model.calls.map((c) => c.operation).filter((o) => o === 'GetPipelineState' || o === 'RollbackStage');
    expect(reads).toEqual(['GetPipelineState', 'RollbackStage', 'GetPipelineState', 'GetPipelineState', 'GetPipelineState', 'GetPipelineState']);
  });

  test('a stage the newer execution has not reached yet is still rolled back; the ones it ran are superseded', async () => {
    const model = failedWorld();
    model.conflictNext('eu-west-1-blue', 2);
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    let waits = 0;
    const outcome = await watcher.handleWatcherEvent(EVENT, SETTINGS, {
      codepipeline: modelClient(model),
      claims: new MemoryClaimStore(async () => undefined, () => clock),
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
        // By the second wait the newer release has run us-east-1 and eu-west-1's green and shift stages.
        if (++waits === 2) model.succeed(NEWER, ALL_STAGES.slice(0, 5));
      },
    });

    expect(coordinated(outcome).map((r) => `${r.stage}=${r.outcome}`)).toEqual([
      'eu-west-1-blue=started', 'eu-west-1-green=superseded', 'us-east-1-blue=superseded', 'us-east-1-green=superseded',
    ]);
    expect(model.rollbacks.map((r) => `${r.stage} replaced ${r.replaced?.pipelineExecutionId}`)).toEqual([`eu-west-1-blue replaced ${FAILED}`]);
  });

  test('a newer execution still running in a stage after the wait supersedes it too', async () => {
    const model = failedWorld();
    model.conflictNext('eu-west-1-blue', 1);
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    const outcome = await watcher.handleWatcherEvent(EVENT, SETTINGS, {
      codepipeline: modelClient(model),
      claims: new MemoryClaimStore(async () => undefined, () => clock),
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
        model.startExecution(NEWER);
        model.runStage(NEWER, 'eu-west-1-green', 'InProgress');
      },
    });

    expect(coordinated(outcome).map((r) => `${r.stage}=${r.outcome}`)).toEqual([
      'eu-west-1-blue=started', 'eu-west-1-green=superseded', 'us-east-1-blue=started', 'us-east-1-green=started',
    ]);
    expect(model.rollbacks.map((r) => `${r.stage} replaced ${r.replaced?.pipelineExecutionId}`)).toEqual([
      `eu-west-1-blue replaced ${FAILED}`, `us-east-1-blue replaced ${FAILED}`, `us-east-1-green replaced ${FAILED}`,
    ]);
  });
});

describe('seeded random interleavings', () => {
  /** A seeded generator (Park-Miller): the same number gives the same interleaving. */
  function generator(seed: number): () => number {
    let state = (seed % 2_147_483_646) + 1;
    return () => {
      state = (state * 48_271) % 2_147_483_647;
      return (state - 1) / 2_147_483_646;
    };
  }
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  /** One run: 2 or 3 duplicate invocations, perhaps a newer release, rollbacks finishing, a busy pipeline. */
  async function run(seed: number): Promise<{ problems: string[]; superseded: number; rolledBack: number; waited: number }> {
    const random = generator(seed);
    const point = async () => {
      for (let n = Math.floor(random() * 4); n > 0; n--) await turn();
    };
    const model = failedWorld();
    model.busy = () => random() < 0.15;
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    const claims = new MemoryClaimStore(point, () => clock);
    const codepipeline = modelClient(model, point);
    const deps = { codepipeline, claims, now: () => clock, sleep: async (ms: number) => { clock += ms; await point(); } };

    const duplicates = 2 + (random() < 0.3 ? 1 : 0);
    const withRelease = random() < 0.6;
    const releaseDelay = Math.floor(random() * 40);
    let running = true;
    const entered: string[] = [];

    const invocations = Array.from({ length: duplicates }, async () => {
      await point();
      return watcher.handleWatcherEvent(EVENT, SETTINGS, deps);
    });
    // A newer release: one stage at a time, each held for 20 to 40 scheduler points, entered only
    // when no execution or rollback is in progress there (CodePipeline runs one at a time per stage).
    const release = (async () => {
      if (!withRelease) return;
      for (let i = 0; i < releaseDelay; i++) await turn();
      model.startExecution(NEWER);
      for (const stage of ALL_STAGES.slice(0, 6)) {
        while (model.latestOf(stage)?.status === 'InProgress') await turn();
        model.runStage(NEWER, stage, 'InProgress');
        entered.push(stage);
        for (let i = 20 + Math.floor(random() * 20); i > 0; i--) await turn();
        model.runStage(NEWER, stage, 'Succeeded');
      }
    })();
    // Rollbacks finish at random moments.
    const finisher = (async () => {
      while (running) {
        await turn();
        if (random() < 0.05) model.completeRollbacks();
      }
    })();
    const settled = await Promise.allSettled(invocations);
    await release;
    running = false;
    await finisher;

    const problems: string[] = [];
    const outcomes = settled.map((s, i) => {
      if (s.status === 'rejected') {
        problems.push(`invocation ${i} threw ${(s.reason as Error).name}: ${(s.reason as Error).message}`);
        return [];
      }
      return coordinated(s.value);
    });
    for (const stage of ROLLBACK_STAGES) {
      const rollbacks = model.rollbacks.filter((r) => r.stage === stage);
      if (rollbacks.length > 1) problems.push(`${stage} was rolled back ${rollbacks.length} times`);
      for (const r of rollbacks) {
        if (r.replaced?.pipelineExecutionId !== FAILED) problems.push(`${stage}'s rollback replaced ${r.replaced?.type} ${r.replaced?.pipelineExecutionId}, not the failed execution`);
      }
      if (rollbacks.length === 0 && !entered.includes(stage)) problems.push(`${stage} was neither rolled back nor run by the newer release`);
      const reported = new Set(outcomes.map((o) => {
        const r = o.find((x) => x.stage === stage);
        return r === undefined ? 'missing' : r.outcome === 'started' || r.outcome === 'already-rolled-back' ? 'rolled back' : r.outcome;
      }));
      if (reported.size !== 1) problems.push(`${stage} was reported as ${[...reported].join(' and ')} by different invocations`);
      const started = outcomes.filter((o) => o.some((x) => x.stage === stage && x.outcome === 'started')).length;
      if (started !== rollbacks.length) problems.push(`${stage}: ${started} invocations report started, ${rollbacks.length} rollbacks happened`);
    }
    const all = outcomes.flat();
    return {
      problems,
      superseded: all.filter((r) => r.outcome === 'superseded').length,
      rolledBack: model.rollbacks.length,
      // Claims another invocation held when this one came to the stage.
      waited: output.lines.filter((l) => l.includes('held by another invocation')).length,
    };
  }

  const first = Number(process.env.WATCHER_INTERLEAVING_SEED ?? 20251207);
  const runs = Number(process.env.WATCHER_INTERLEAVING_RUNS ?? 300);

  test(`${runs} interleavings: each stage is rolled back at most once, a newer release never undone, every stage decided alike`, async () => {
    const failures: string[] = [];
    const seen = { superseded: 0, rolledBack: 0, waited: 0 };
    for (let seed = first; seed < first + runs && failures.length < 5; seed++) {
      const waitedBefore = output.lines.filter((l) => l.includes('held by another invocation')).length;
      const result = await run(seed);
      seen.superseded += result.superseded;
      seen.rolledBack += result.rolledBack;
      seen.waited += result.waited - waitedBefore;
      if (result.problems.length > 0) {
        failures.push(`interleaving ${seed} (rerun with WATCHER_INTERLEAVING_SEED=${seed} WATCHER_INTERLEAVING_RUNS=1): ${result.problems.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
    // The runs covered what they are for: releases that superseded stages, rollbacks, and
    // duplicates that found a stage claimed by another invocation.
    if (runs >= 100) {
      expect(seen.superseded).toBeGreaterThan(0);
      expect(seen.rolledBack).toBeGreaterThan(0);
      expect(seen.waited).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('claims that outlive or fail their holder', () => {
  const CLAIMS = SETTINGS.rollbackClaimsPath!;
  const claimName = (stage: string, generation: number) => `${CLAIMS}/${FAILED}/${stage}/${generation}`;

  test('a claim another invocation still holds at the deadline fails the stage (RollbackClaimedElsewhere); once its lease runs out a retry takes over', async () => {
    const model = failedWorld();
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    const claims = new MemoryClaimStore(async () => undefined, () => clock);
    // An invocation that died holding eu-west-1-blue; its lease ends 7 minutes from now.
    await claims.create(claimName('eu-west-1-blue', 1), JSON.stringify({ state: 'claimed', owner: 'dead', leaseUntil: clock + 7 * 60_000 }));
    const deps = { codepipeline: modelClient(model), claims, now: () => clock, sleep: async (ms: number) => { clock += ms; } };

    await expect(watcher.handleWatcherEvent(EVENT, SETTINGS, deps)).rejects.toThrow('could not roll back eu-west-1');
    expect(model.rollbacks.map((r) => r.stage)).toEqual(['eu-west-1-green', 'us-east-1-blue', 'us-east-1-green']);

    // Lambda's retry, after the lease has run out, claims generation 2 and rolls the stage back.
    clock += 3 * 60_000;
    const retried = await watcher.handleWatcherEvent(EVENT, SETTINGS, deps);
    expect(coordinated(retried).map((r) => `${r.stage}=${r.outcome}`)).toEqual([
      'eu-west-1-blue=started', 'eu-west-1-green=already-rolled-back', 'us-east-1-blue=already-rolled-back', 'us-east-1-green=already-rolled-back',
    ]);
    expect(model.rollbacks.map((r) => r.stage)).toEqual(['eu-west-1-green', 'us-east-1-blue', 'us-east-1-green', 'eu-west-1-blue']);
    expect(JSON.parse(claims.records.get(claimName('eu-west-1-blue', 2))!.value)).toMatchObject({ state: 'done', outcome: 'started' });
  });

  test('an invocation that cannot roll a stage back releases its claim, so the retry tries again at once', async () => {
    const model = failedWorld();
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    const claims = new MemoryClaimStore(async () => undefined, () => clock);
    const deps = { codepipeline: modelClient(model), claims, now: () => clock, sleep: async (ms: number) => { clock += ms; } };
    // The pipeline stays busy for eu-west-1-blue past the 5-minute budget.
    model.conflictNext('eu-west-1-blue', 100);

    await expect(watcher.handleWatcherEvent(EVENT, SETTINGS, deps)).rejects.toThrow('could not roll back eu-west-1');
    expect(JSON.parse(claims.records.get(claimName('eu-west-1-blue', 1))!.value)).toMatchObject({ state: 'released' });

    model.clearConflicts('eu-west-1-blue');
    const retried = await watcher.handleWatcherEvent(EVENT, SETTINGS, deps);
    expect(coordinated(retried)[0]).toMatchObject({ stage: 'eu-west-1-blue', outcome: 'started' });
    expect(model.rollbacks.filter((r) => r.stage === 'eu-west-1-blue')).toHaveLength(1);
  });

  test('of two concurrent invocations with a notification topic, only the one that decided publishes', async () => {
    const model = failedWorld();
    let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
    const claims = new MemoryClaimStore(async () => new Promise<void>((resolve) => setImmediate(resolve)), () => clock);
    const sns = new SNSClient({ region: 'us-east-1' });
    const snsMock = mockClient(sns);
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const settings = { ...SETTINGS, notificationTopicArn: 'arn:aws:sns:us-east-1:111111111111:orders-release-rollbacks' };
    const deps = { codepipeline: modelClient(model), claims, sns, now: () => clock, sleep: async (ms: number) => { clock += ms; } };

    const outcomes = await Promise.all([watcher.handleWatcherEvent(EVENT, settings, deps), watcher.handleWatcherEvent(EVENT, settings, deps)]);

    expect(model.rollbacks).toHaveLength(4);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    const started = outcomes.map((o) => coordinated(o).filter((r) => r.outcome === 'started').length);
    expect(started.sort()).toEqual([0, 4]);
  });
});
