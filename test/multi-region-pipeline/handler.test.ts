/**
 * The entry point shared by the pipeline's three functions: which function it is comes from
 * PIPELINE_FUNCTION_ROLE, its configuration is checked at cold start, and an event meant for
 * another function is refused.
 */
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';

process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test/Pipeline';
process.env.POWERTOOLS_SERVICE_NAME = 'test';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createHandler, readHealthChecks, readRole, readTrafficSwitch } = require('../../lambda-src/multi-region-pipeline/handler');

const CHECK = { name: 'api', url: 'https://{slot}.example.com/health', expectedStatuses: [200], consecutiveSuccesses: 2, maxAttempts: 3, intervalSeconds: 1, timeoutSeconds: 2 };
const base = { AWS_REGION: 'us-east-1' };
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:health/token-AbCdEf';

describe('readRole', () => {
  test('accepts the three functions', () => {
    for (const role of ['health-check', 'traffic-switch', 'pipeline-watcher']) expect(readRole({ [PipelineEnv.ROLE]: role })).toBe(role);
  });
  test('fails at cold start naming the variable when it is unknown', () => {
    expect(() => readRole({ [PipelineEnv.ROLE]: 'deployer' }))
      .toThrow('environment variable PIPELINE_FUNCTION_ROLE must be one of health-check, traffic-switch, pipeline-watcher, but got "deployer"');
    expect(() => readRole({})).toThrow('environment variable PIPELINE_FUNCTION_ROLE is required but not set');
  });
});

describe('readHealthChecks', () => {
  test('reads the checks the construct writes', () => {
    expect(readHealthChecks({ [PipelineEnv.HEALTH_CHECKS]: JSON.stringify([CHECK]) })).toEqual([CHECK]);
  });
  test('reads secret headers', () => {
    const checks = [{ ...CHECK, headers: [{ name: 'Authorization', secretArn: SECRET_ARN, jsonField: 'token', prefix: 'Bearer ' }] }];
    expect(readHealthChecks({ [PipelineEnv.HEALTH_CHECKS]: JSON.stringify(checks) })).toEqual(checks);
  });
  test.each([
    [[], ' must be a non-empty JSON array of health checks'],
    [[{ ...CHECK, url: 'ftp://x' }], '[0] must have an http:// or https:// url'],
    [[{ ...CHECK, expectedStatuses: [] }], '[0] must have expectedStatuses, a non-empty array of HTTP statuses'],
    [[{ ...CHECK, timeoutSeconds: 0 }], '[0] must have an integer timeoutSeconds of at least 1'],
    [[{ ...CHECK, maxAttempts: 1 }], '[0] must have maxAttempts of at least consecutiveSuccesses'],
    [[{ ...CHECK, latencyThresholdMs: -1 }], '[0] latencyThresholdMs must be a positive integer'],
    [[{ ...CHECK, headers: {} }], '[0] headers must be an array'],
    [[{ ...CHECK, headers: [{ name: 'X Token', secretArn: SECRET_ARN }] }], '[0].headers[0] must have a name that is an HTTP header name'],
    [[{ ...CHECK, headers: [{ name: 'X-Token', secretArn: 'health/token' }] }], '[0].headers[0] must have a secretArn that is a Secrets Manager secret ARN'],
    [[{ ...CHECK, headers: [{ name: 'X-Token', secretArn: SECRET_ARN, jsonField: '' }] }], '[0].headers[0] jsonField must be a non-empty string'],
    [[{ ...CHECK, headers: [{ name: 'X-Token', secretArn: SECRET_ARN, prefix: 'a\nb' }] }], '[0].headers[0] prefix must be printable ASCII'],
  ])('fails naming the field for %j', (checks, message) => {
    expect(() => readHealthChecks({ [PipelineEnv.HEALTH_CHECKS]: JSON.stringify(checks) })).toThrow(`environment variable HEALTH_CHECKS${message}`);
  });
});

describe('readTrafficSwitch', () => {
  const route53 = { type: 'route53-weighted', hostedZoneId: 'Z1', recordName: 'api.{region}.example.com', recordType: 'A', setIdentifiers: { blue: 'b', green: 'g' }, liveWeight: 100 };
  test('reads both kinds', () => {
    expect(readTrafficSwitch({ [PipelineEnv.TRAFFIC_SWITCH]: JSON.stringify(route53) })).toEqual(route53);
    expect(readTrafficSwitch({ [PipelineEnv.TRAFFIC_SWITCH]: '{"type":"ssm-parameter","parameterName":"/x"}' })).toEqual({ type: 'ssm-parameter', parameterName: '/x' });
  });
  test.each([
    [{ ...route53, liveWeight: 0 }, 'must have a liveWeight from 1 to 255'],
    [{ ...route53, setIdentifiers: { blue: 'b' } }, 'must have setIdentifiers.blue and setIdentifiers.green'],
    [{ ...route53, hostedZoneId: '' }, 'must have a hostedZoneId'],
    [{ type: 'ssm-parameter' }, 'must have a parameterName'],
    [{ type: 'dns' }, 'must have type "route53-weighted" or "ssm-parameter"'],
  ])('fails naming the field for %j', (config, message) => {
    expect(() => readTrafficSwitch({ [PipelineEnv.TRAFFIC_SWITCH]: JSON.stringify(config) })).toThrow(`environment variable TRAFFIC_SWITCH ${message}`);
  });
});

describe('createHandler', () => {
  test('the health-check function refuses an EventBridge event', async () => {
    const handler = createHandler({ ...base, [PipelineEnv.ROLE]: 'health-check', [PipelineEnv.HEALTH_CHECKS]: JSON.stringify([CHECK]) });
    await expect(handler({ 'detail-type': 'CodePipeline Stage Execution State Change' }))
      .rejects.toThrow('the health-check function only runs as a CodePipeline Lambda invoke action, but got another event');
  });
  test('the traffic-switch function fails at cold start without its configuration', () => {
    expect(() => createHandler({ ...base, [PipelineEnv.ROLE]: 'traffic-switch' })).toThrow('environment variable TRAFFIC_SWITCH is required but not set');
  });
  test('the watcher refuses a pipeline job', async () => {
    const handler = createHandler({
      ...base,
      [PipelineEnv.ROLE]: 'pipeline-watcher',
      [PipelineEnv.PIPELINE_NAME]: 'p',
      [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([{ region: 'us-east-1', stages: ['us-east-1'], rollbackStages: ['us-east-1'] }]),
    });
    await expect(handler({ 'CodePipeline.job': { id: 'j' } })).rejects.toThrow('the pipeline-watcher function does not run pipeline actions');
  });
});
