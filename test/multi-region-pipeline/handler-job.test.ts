import {
  CodePipelineClient, GetJobDetailsCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import {
  failJob, isPipelineJob, JobConfigurationError, jobContextOf, jobIdOf, parseJob, succeedJob,
} from '../../lambda-src/multi-region-pipeline/job';

const codepipeline = mockClient(CodePipelineClient);
const client = new CodePipelineClient({ region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

function jobEvent(configuration: Record<string, unknown>, id: unknown = 'job-1') {
  return { 'CodePipeline.job': { id, accountId: '123456789012', data: { actionConfiguration: { configuration } } } };
}

function thrown(body: () => unknown): Error {
  try {
    body();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

beforeEach(() => codepipeline.reset());
afterAll(() => codepipeline.restore());

describe('reading a job', () => {
  test('reads the job id and the UserParameters JSON', () => {
    const event = jobEvent({ FunctionName: 'f', UserParameters: '{"region":"eu-west-1","slot":"green"}' });

    expect(isPipelineJob(event)).toBe(true);
    expect(jobIdOf(event)).toBe('job-1');
    expect(parseJob(event)).toEqual({ jobId: 'job-1', userParameters: { region: 'eu-west-1', slot: 'green' } });
  });

  test('does not take other events for jobs', () => {
    for (const event of [undefined, null, {}, { 'CodePipeline.job': {} }, jobEvent({}, 42), { 'detail-type': 'CodePipeline Pipeline Execution State Change' }]) {
      expect(isPipelineJob(event)).toBe(false);
      expect(jobIdOf(event)).toBeUndefined();
    }
    expect(jobIdOf(jobEvent({}, ''))).toBeUndefined();
  });

  test('fails with a JobConfigurationError if there is no job id', () => {
    const error = thrown(() => parseJob({ 'detail-type': 'x' }));
    expect(error).toBeInstanceOf(JobConfigurationError);
    expect(error.message).toBe('the event is not a CodePipeline job: "CodePipeline.job".id is missing');
  });

  test('fails with a JobConfigurationError if UserParameters are missing or empty, keeping the job id readable', () => {
    for (const configuration of [{ FunctionName: 'f' }, { FunctionName: 'f', UserParameters: '' }, { UserParameters: 42 }]) {
      const event = jobEvent(configuration);
      const error = thrown(() => parseJob(event));
      expect(error).toBeInstanceOf(JobConfigurationError);
      expect(error.message).toBe('the action has no UserParameters; it must be the JSON the MultiRegionPipeline construct wrote');
      expect(jobIdOf(event)).toBe('job-1');
    }
  });

  test('fails if UserParameters are not JSON, without quoting them', () => {
    const error = thrown(() => parseJob(jobEvent({ UserParameters: '{region: quoted-value-123' })));
    expect(error.name).toBe('JobConfigurationError');
    expect(error.message).toBe('the action UserParameters are not JSON; they must be the JSON the MultiRegionPipeline construct wrote');
  });
});

describe('the job context', () => {
  test('reads pipeline, stage, action and execution from GetJobDetails', async () => {
    codepipeline.on(GetJobDetailsCommand, { jobId: 'job-1' }).resolves({
      jobDetails: {
        id: 'job-1',
        data: {
          pipelineContext: {
            pipelineName: 'app', stage: { name: 'eu-west-1' }, action: { name: 'HealthCheck' }, pipelineExecutionId: 'exec-1',
          },
        },
      },
    });

    await expect(jobContextOf(client, 'job-1')).resolves.toEqual({
      pipelineName: 'app', stageName: 'eu-west-1', actionName: 'HealthCheck', pipelineExecutionId: 'exec-1',
    });
  });

  test('fails with a JobConfigurationError if GetJobDetails has no pipeline context', async () => {
    codepipeline.on(GetJobDetailsCommand).resolves({ jobDetails: { id: 'job-1', data: {} } });

    await expect(jobContextOf(client, 'job-1')).rejects.toThrow(new JobConfigurationError('GetJobDetails for job job-1 returned no pipeline context'));
  });
});

describe('reporting a job', () => {
  test('reports success with the summary, complete, and the output variables', async () => {
    codepipeline.on(PutJobSuccessResultCommand).resolves({});

    await succeedJob(client, 'job-1', 'all good', { Region: 'eu-west-1' });
    await succeedJob(client, 'job-2', 's'.repeat(3000));

    expect(codepipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input)).toEqual([
      { jobId: 'job-1', executionDetails: { summary: 'all good', percentComplete: 100 }, outputVariables: { Region: 'eu-west-1' } },
      // CodePipeline rejects a summary over 2,048 characters.
      { jobId: 'job-2', executionDetails: { summary: 's'.repeat(2048), percentComplete: 100 } },
    ]);
  });

  test('reports failure as JobFailed, or ConfigurationError when asked, cut to 5,000 characters', async () => {
    codepipeline.on(PutJobFailureResultCommand).resolves({});

    await failJob(client, 'job-1', 'm'.repeat(6000));
    await failJob(client, 'job-2', 'bad parameters', true);

    expect(codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input)).toEqual([
      { jobId: 'job-1', failureDetails: { type: 'JobFailed', message: 'm'.repeat(5000) } },
      { jobId: 'job-2', failureDetails: { type: 'ConfigurationError', message: 'bad parameters' } },
    ]);
  });

  test('lets a reporting error propagate', async () => {
    codepipeline.on(PutJobFailureResultCommand).rejects(Object.assign(new Error('job is not in progress'), { name: 'InvalidJobStateException' }));

    await expect(failJob(client, 'job-1', 'x')).rejects.toThrow('job is not in progress');
  });
});
