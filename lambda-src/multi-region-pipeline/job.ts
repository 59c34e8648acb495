import {
  CodePipelineClient, FailureType, GetJobDetailsCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';

/**
 * The CodePipeline side of a Lambda invoke action: reading the job CodePipeline sends, and
 * reporting its outcome. Every job ends in exactly one PutJobSuccessResult or PutJobFailureResult;
 * a job that is never reported fails only when the action times out (an hour later).
 */

/** CodePipeline's limit on a failure message, in characters. */
const MAX_FAILURE_MESSAGE = 5000;
/** CodePipeline's limit on an execution summary, in characters. */
const MAX_SUMMARY = 2048;

/** A Lambda invoke action's job, as the handler needs it. */
export interface PipelineJob {
  readonly jobId: string;
  /** The action's `UserParameters`, parsed as JSON. */
  readonly userParameters: unknown;
}

/** Raised for a job CodePipeline sent that this function cannot read; reported as a ConfigurationError. */
export class JobConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobConfigurationError';
  }
}

/** True when `event` is a CodePipeline job (a Lambda invoke action's event). */
export function isPipelineJob(event: unknown): boolean {
  const job = (event as Record<string, unknown> | undefined)?.['CodePipeline.job'] as { id?: unknown } | undefined;
  return typeof job?.id === 'string';
}

/**
 * Reads the job id and the `UserParameters` JSON. Throws `JobConfigurationError` (naming what is
 * wrong, never echoing the parameters) when they are missing or not JSON; the id is then still
 * known to the caller through `jobIdOf()`.
 */
export function parseJob(event: unknown): PipelineJob {
  const jobId = jobIdOf(event);
  if (jobId === undefined) {
    throw new JobConfigurationError('the event is not a CodePipeline job: "CodePipeline.job".id is missing');
  }
  const job = (event as Record<string, any>)['CodePipeline.job'];
  const raw = job?.data?.actionConfiguration?.configuration?.UserParameters;
  if (typeof raw !== 'string' || raw === '') {
    throw new JobConfigurationError('the action has no UserParameters; it must be the JSON the MultiRegionPipeline construct wrote');
  }
  try {
    return { jobId, userParameters: JSON.parse(raw) };
  } catch {
    throw new JobConfigurationError('the action UserParameters are not JSON; they must be the JSON the MultiRegionPipeline construct wrote');
  }
}

/** The job id of a CodePipeline job event, if it has one. */
export function jobIdOf(event: unknown): string | undefined {
  const id = ((event as Record<string, any> | undefined)?.['CodePipeline.job'])?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Where a job runs: the pipeline, stage, action and execution (from GetJobDetails). */
export interface JobContext {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly actionName: string;
  readonly pipelineExecutionId: string;
}

/** Looks up the job's pipeline context; CodePipeline does not put it in the Lambda event. */
export async function jobContextOf(client: CodePipelineClient, jobId: string): Promise<JobContext> {
  const out = await client.send(new GetJobDetailsCommand({ jobId }));
  const context = out.jobDetails?.data?.pipelineContext;
  if (!context?.pipelineName || !context.pipelineExecutionId) {
    throw new JobConfigurationError(`GetJobDetails for job ${jobId} returned no pipeline context`);
  }
  return {
    pipelineName: context.pipelineName,
    stageName: context.stage?.name ?? '',
    actionName: context.action?.name ?? '',
    pipelineExecutionId: context.pipelineExecutionId,
  };
}

/** Reports success, with a one-line summary and optional output variables. */
export async function succeedJob(
  client: CodePipelineClient, jobId: string, summary: string, outputVariables?: Record<string, string>,
): Promise<void> {
  await client.send(new PutJobSuccessResultCommand({
    jobId,
    executionDetails: { summary: summary.slice(0, MAX_SUMMARY), percentComplete: 100 },
    ...(outputVariables ? { outputVariables } : {}),
  }));
}

/**
 * Reports failure. `message` must be value-free (it is shown in the console); it is cut to
 * CodePipeline's limit. A ConfigurationError is not retried by CodePipeline; JobFailed is the rest.
 */
export async function failJob(client: CodePipelineClient, jobId: string, message: string, configurationError = false): Promise<void> {
  await client.send(new PutJobFailureResultCommand({
    jobId,
    failureDetails: {
      type: configurationError ? FailureType.ConfigurationError : FailureType.JobFailed,
      message: message.slice(0, MAX_FAILURE_MESSAGE),
    },
  }));
}
