import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the CodePipeline API's job and execution calls, which moto does not implement,
 * speaking the real protocol (AWS JSON 1.1: `POST /`, `X-Amz-Target: CodePipeline_20150709.<Op>`).
 * It answers from a table of canned responses and records every call, so a bundle can run its
 * CodePipeline side for real over HTTP: point it here with `AWS_ENDPOINT_URL_CODEPIPELINE`.
 */
export interface FakeCodePipeline {
  readonly endpoint: string;
  /** Every call in order: operation name and parsed request body. */
  readonly calls: Array<{ operation: string; input: any }>;
  stop(): Promise<void>;
}

/** Options of the fake. */
export interface FakeCodePipelineOptions {
  /** Answers from this model instead of the canned responses; its errors become 400 responses. */
  readonly model?: PipelineModel;
  /** Holds every answer back this long (ms), so that concurrent callers overlap. */
  readonly delayMs?: number;
}

/**
 * Starts the fake; `responses` maps an operation name to its JSON response (default `{}`), unless
 * `options.model` answers.
 */
export async function startFakeCodePipeline(
  responses: Record<string, unknown> = {}, options: FakeCodePipelineOptions = {},
): Promise<FakeCodePipeline> {
  const calls: Array<{ operation: string; input: any }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^CodePipeline_20150709\./, '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      calls.push({ operation, input });
      let status = 200;
      let body: unknown = responses[operation] ?? {};
      if (options.model) {
        try {
          body = options.model.handle(operation, input);
        } catch (e) {
          status = 400;
          body = { __type: (e as Error).name, message: (e as Error).message };
        }
      }
      const answer = () => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `fake-${calls.length}` });
        res.end(JSON.stringify(body));
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** An error the model answers with, as CodePipeline names it on the wire (`__type`). */
export class PipelineModelError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The latest execution of a stage, as GetPipelineState reports it. */
export interface ModelStageExecution {
  readonly pipelineExecutionId: string;
  readonly type: 'STANDARD' | 'ROLLBACK';
  readonly status: 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';
}

/** A RollbackStage the model accepted, with what it replaced: the invariant checks read these. */
export interface ModelRollback {
  readonly stage: string;
  readonly targetExecutionId: string;
  readonly rollbackExecutionId: string;
  /** The stage's latest execution when the rollback started. */
  readonly replaced?: ModelStageExecution;
}

interface ModelExecution {
  readonly id: string;
  readonly type: 'STANDARD' | 'ROLLBACK';
  status: 'InProgress' | 'Succeeded' | 'Failed';
  readonly startTime: number;
  readonly triggerType: string;
  readonly rollbackTarget?: string;
  readonly actions: Array<{ stage: string; status: ModelStageExecution['status']; startTime: number; id: string }>;
}

/**
 * A small model of one CodePipeline V2 pipeline, enough for the pipeline watcher: executions,
 * each stage's latest execution, action executions, and RollbackStage with the API's refusals. It
 * answers GetPipelineExecution, ListPipelineExecutions, ListActionExecutions, GetPipelineState
 * and RollbackStage in the API's JSON shapes (times in epoch seconds, as on the wire), so the same
 * model serves the HTTP stand-in (`startFakeCodePipeline({}, { model })`) and in-process mocks.
 *
 * RollbackStage is refused with ConflictException while the stage is in progress (a running
 * execution or rollback holds it) and when a test says the pipeline is busy (`conflictNext`,
 * `busy`); with UnableToRollbackStageException for a target that is not a successful standard
 * execution.
 */
export class PipelineModel {
  private readonly executions: ModelExecution[] = [];
  private readonly latest = new Map<string, ModelStageExecution>();
  private readonly conflicts = new Map<string, number>();
  /** Epoch seconds; every event one second after the last. */
  private clock = 1_746_090_000;
  private sequence = 0;
  /** Every RollbackStage the model accepted, in order. */
  readonly rollbacks: ModelRollback[] = [];
  /** Every call, in order. */
  readonly calls: Array<{ operation: string; input: any; error?: string }> = [];
  /** Decides, per RollbackStage call, whether the pipeline is busy (ConflictException). */
  busy: (stage: string) => boolean;

  constructor(readonly pipelineName: string, readonly stages: readonly string[]) {
    this.busy = () => false;
  }

  /** Starts a standard execution (or, with `type`, a rollback) and returns its id. */
  startExecution(id: string, type: 'STANDARD' | 'ROLLBACK' = 'STANDARD', rollbackTarget?: string): string {
    const triggerType = type === 'ROLLBACK' ? 'ManualRollback' : 'Webhook';
    this.executions.push({ id, type, status: 'InProgress', startTime: this.tick(), triggerType, rollbackTarget, actions: [] });
    return id;
  }

  /** Records that `executionId` entered `stage` (InProgress) or finished it. */
  runStage(executionId: string, stage: string, status: 'InProgress' | 'Succeeded' | 'Failed'): void {
    const execution = this.execution(executionId);
    const existing = execution.actions.find((a) => a.stage === stage);
    if (existing) existing.status = status;
    else execution.actions.push({ stage, status, startTime: this.tick(), id: `action-${++this.sequence}` });
    this.latest.set(stage, { pipelineExecutionId: executionId, type: execution.type, status });
  }

  /** Ends an execution. */
  finishExecution(executionId: string, status: 'Succeeded' | 'Failed'): void {
    this.execution(executionId).status = status;
  }

  /** Runs a whole standard execution through `stages`, succeeding. */
  succeed(executionId: string, stages: readonly string[] = this.stages): void {
    this.startExecution(executionId);
    for (const stage of stages) {
      this.runStage(executionId, stage, 'InProgress');
      this.runStage(executionId, stage, 'Succeeded');
    }
    this.finishExecution(executionId, 'Succeeded');
  }

  /** The next `count` RollbackStage calls of `stage` are refused with ConflictException. */
  conflictNext(stage: string, count: number): void {
    this.conflicts.set(stage, (this.conflicts.get(stage) ?? 0) + count);
  }

  /** Drops the ConflictExceptions `conflictNext` planned for `stage` and not yet given. */
  clearConflicts(stage: string): void {
    this.conflicts.delete(stage);
  }

  /** Finishes every rollback still in progress, successfully. */
  completeRollbacks(): void {
    for (const execution of this.executions.filter((e) => e.type === 'ROLLBACK' && e.status === 'InProgress')) {
      for (const action of execution.actions) this.runStage(execution.id, action.stage, 'Succeeded');
      execution.status = 'Succeeded';
    }
  }

  /** The latest execution of `stage`. */
  latestOf(stage: string): ModelStageExecution | undefined {
    return this.latest.get(stage);
  }

  /** Answers one API call, or throws a PipelineModelError. */
  handle(operation: string, input: any): unknown {
    try {
      const out = this.answer(operation, input ?? {});
      this.calls.push({ operation, input });
      return out;
    } catch (e) {
      this.calls.push({ operation, input, error: (e as Error).name });
      throw e;
    }
  }

  private answer(operation: string, input: any): unknown {
    if (input.pipelineName !== undefined && input.pipelineName !== this.pipelineName) {
      throw new PipelineModelError('PipelineNotFoundException', `pipeline ${input.pipelineName} not found`);
    }
    switch (operation) {
      case 'GetPipelineExecution': {
        const e = this.execution(input.pipelineExecutionId);
        return {
          pipelineExecution: {
            pipelineName: this.pipelineName,
            pipelineExecutionId: e.id,
            status: e.status,
            executionType: e.type,
            trigger: { triggerType: e.triggerType },
            ...(e.rollbackTarget ? { rollbackMetadata: { rollbackTargetPipelineExecutionId: e.rollbackTarget } } : {}),
          },
        };
      }
      case 'ListPipelineExecutions':
        return {
          pipelineExecutionSummaries: [...this.executions].reverse().map((e) => ({
            pipelineExecutionId: e.id,
            status: e.status,
            startTime: e.startTime,
            lastUpdateTime: e.startTime,
            executionType: e.type,
            trigger: { triggerType: e.triggerType },
          })),
        };
      case 'ListActionExecutions': {
        const id = input.filter?.pipelineExecutionId;
        const executions = this.executions.filter((e) => id === undefined || e.id === id);
        return {
          actionExecutionDetails: executions.flatMap((e) => [...e.actions].reverse().map((a) => ({
            pipelineExecutionId: e.id,
            actionExecutionId: a.id,
            stageName: a.stage,
            actionName: 'Deploy',
            startTime: a.startTime,
            lastUpdateTime: a.startTime,
            status: a.status,
          }))),
        };
      }
      case 'GetPipelineState':
        if (input.name !== this.pipelineName) throw new PipelineModelError('PipelineNotFoundException', `pipeline ${input.name} not found`);
        return {
          pipelineName: this.pipelineName,
          stageStates: this.stages.map((stageName) => {
            const latest = this.latest.get(stageName);
            return { stageName, ...(latest ? { latestExecution: { ...latest } } : {}) };
          }),
        };
      case 'RollbackStage':
        return this.rollbackStage(input.stageName, input.targetPipelineExecutionId);
      default:
        throw new PipelineModelError('UnknownOperationException', `the model does not implement ${operation}`);
    }
  }

  private rollbackStage(stage: string, target: string): unknown {
    if (!this.stages.includes(stage)) throw new PipelineModelError('StageNotFoundException', `stage ${stage} not found`);
    const scripted = this.conflicts.get(stage) ?? 0;
    if (scripted > 0) {
      this.conflicts.set(stage, scripted - 1);
      throw new PipelineModelError('ConflictException', 'Unable to roll back stage as another pipeline execution is in progress');
    }
    const replaced = this.latest.get(stage);
    if (replaced?.status === 'InProgress' || this.busy(stage)) {
      throw new PipelineModelError('ConflictException', 'Unable to roll back stage as another pipeline execution is in progress');
    }
    const targetExecution = this.executions.find((e) => e.id === target);
    if (!targetExecution || targetExecution.type !== 'STANDARD' || targetExecution.status !== 'Succeeded') {
      throw new PipelineModelError('UnableToRollbackStageException', 'the target is not a successful standard execution');
    }
    const rollbackExecutionId = this.startExecution(`rollback-${++this.sequence}`, 'ROLLBACK', target);
    this.runStage(rollbackExecutionId, stage, 'InProgress');
    this.rollbacks.push({ stage, targetExecutionId: target, rollbackExecutionId, ...(replaced ? { replaced } : {}) });
    return { pipelineExecutionId: rollbackExecutionId };
  }

  private execution(id: string): ModelExecution {
    const e = this.executions.find((x) => x.id === id);
    if (!e) throw new PipelineModelError('PipelineExecutionNotFoundException', `execution ${id} not found`);
    return e;
  }

  private tick(): number {
    return ++this.clock;
  }
}
