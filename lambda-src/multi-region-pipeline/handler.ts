import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { handleHealthCheckJob, SecretHeaderValues } from './health-check';
import { failJob, isPipelineJob, jobIdOf } from './job';
import { SsmClaimStore } from './rollback-claims';
import { handleTrafficSwitchJob } from './traffic-switch';
import { handleWatcherEvent, readWatcherSettings } from './watcher';
import type { HttpCheckConfig, PipelineFunctionRoleName, TrafficSwitchConfig } from '../../src/multi-region-pipeline/contract';
import { PipelineEnv, PipelineFunctionRole } from '../../src/multi-region-pipeline/contract';
import { ClientCache } from '../shared/clients';
import { Pacer } from '../shared/pacing';
import { ConfigurationError, requireEnv, requireJsonEnv } from '../shared/env';
import { logger, metrics } from '../shared/observability';
import { SettingsClient, SettingsDocumentError, withSettings } from '../shared/settings';

const ROLES: readonly string[] = Object.values(PipelineFunctionRole);
/** An http(s) URL template; `{region}` and `{slot}` are substituted per action. */
const URL_TEMPLATE = /^https?:\/\/[^\s]+$/;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** A Secrets Manager secret ARN (complete, or partial without the random suffix). */
const SECRET_ARN = /^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$/;

/** Reads which function this is; throws naming the variable when it is missing or unknown. */
export function readRole(env: NodeJS.ProcessEnv): PipelineFunctionRoleName {
  const role = requireEnv(PipelineEnv.ROLE, env);
  if (!ROLES.includes(role)) {
    throw new Error(`environment variable ${PipelineEnv.ROLE} must be one of ${ROLES.join(', ')}, but got ${JSON.stringify(role)}`);
  }
  return role as PipelineFunctionRoleName;
}

/** Reads and checks the health checks; throws naming the first bad field. */
export function readHealthChecks(env: NodeJS.ProcessEnv): HttpCheckConfig[] {
  const name = PipelineEnv.HEALTH_CHECKS;
  const checks = requireJsonEnv<unknown>(name, env);
  if (!Array.isArray(checks) || checks.length === 0) {
    throw new ConfigurationError(`environment variable ${name} must be a non-empty JSON array of health checks`);
  }
  const positive = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  return checks.map((c: any, i): HttpCheckConfig => {
    const where = `environment variable ${name}[${i}]`;
    if (typeof c?.name !== 'string' || c.name === '') throw new ConfigurationError(`${where} must have a name`);
    if (typeof c.url !== 'string' || !URL_TEMPLATE.test(c.url)) throw new ConfigurationError(`${where} must have an http:// or https:// url`);
    if (!Array.isArray(c.expectedStatuses) || c.expectedStatuses.length === 0 || !c.expectedStatuses.every((s: unknown) => positive(s, 100))) {
      throw new ConfigurationError(`${where} must have expectedStatuses, a non-empty array of HTTP statuses`);
    }
    for (const [field, min] of [['consecutiveSuccesses', 1], ['maxAttempts', 1], ['intervalSeconds', 0], ['timeoutSeconds', 1]] as const) {
      if (!positive(c[field], min)) throw new ConfigurationError(`${where} must have an integer ${field} of at least ${min}`);
    }
    if (c.maxAttempts < c.consecutiveSuccesses) throw new ConfigurationError(`${where} must have maxAttempts of at least consecutiveSuccesses`);
    if (c.latencyThresholdMs !== undefined && !positive(c.latencyThresholdMs, 1)) throw new ConfigurationError(`${where} latencyThresholdMs must be a positive integer`);
    if (c.headers !== undefined) {
      if (!Array.isArray(c.headers)) throw new ConfigurationError(`${where} headers must be an array`);
      c.headers.forEach((h: any, j: number) => {
        if (typeof h?.name !== 'string' || !HEADER_NAME.test(h.name)) throw new ConfigurationError(`${where}.headers[${j}] must have a name that is an HTTP header name`);
        if (typeof h.secretArn !== 'string' || !SECRET_ARN.test(h.secretArn)) throw new ConfigurationError(`${where}.headers[${j}] must have a secretArn that is a Secrets Manager secret ARN`);
        if (h.jsonField !== undefined && (typeof h.jsonField !== 'string' || h.jsonField === '')) throw new ConfigurationError(`${where}.headers[${j}] jsonField must be a non-empty string`);
        if (h.prefix !== undefined && (typeof h.prefix !== 'string' || !/^[\x20-\x7e]*$/.test(h.prefix))) {
          throw new ConfigurationError(`${where}.headers[${j}] prefix must be printable ASCII`);
        }
      });
    }
    return c as HttpCheckConfig;
  });
}

/** Reads and checks the traffic switch; throws naming the first bad field. */
export function readTrafficSwitch(env: NodeJS.ProcessEnv): TrafficSwitchConfig {
  const name = PipelineEnv.TRAFFIC_SWITCH;
  const config = requireJsonEnv<any>(name, env);
  if (config?.type === 'route53-weighted') {
    for (const field of ['hostedZoneId', 'recordName', 'recordType'] as const) {
      if (typeof config[field] !== 'string' || config[field] === '') throw new ConfigurationError(`environment variable ${name} must have a ${field}`);
    }
    if (typeof config.setIdentifiers?.blue !== 'string' || typeof config.setIdentifiers?.green !== 'string') {
      throw new ConfigurationError(`environment variable ${name} must have setIdentifiers.blue and setIdentifiers.green`);
    }
    if (!Number.isInteger(config.liveWeight) || config.liveWeight < 1 || config.liveWeight > 255) {
      throw new ConfigurationError(`environment variable ${name} must have a liveWeight from 1 to 255`);
    }
    return config;
  }
  if (config?.type === 'ssm-parameter') {
    if (typeof config.parameterName !== 'string' || config.parameterName === '') throw new ConfigurationError(`environment variable ${name} must have a parameterName`);
    return config;
  }
  throw new ConfigurationError(`environment variable ${name} must have type "route53-weighted" or "ssm-parameter"`);
}

/** Clients the handler would otherwise create itself; tests pass their own. */
export interface PipelineHandlerDependencies {
  /** @default - a new ClientCache for AWS_REGION */
  readonly clients?: ClientCache;
  /** @default - an SSMClient for AWS_REGION */
  readonly settingsClient?: SettingsClient;
}

/**
 * Builds the Lambda handler for the function `PIPELINE_FUNCTION_ROLE` names; its configuration is
 * validated now (cold start), or on the first invocation once the settings document is read (see
 * `withSettings`). An event meant for another function is refused with an error. A CodePipeline
 * job that arrives while the settings document cannot be read is reported failed (retryable).
 */
export function createHandler(
  env: NodeJS.ProcessEnv = process.env,
  dependencies: PipelineHandlerDependencies = {},
): (event: unknown) => Promise<unknown> {
  const role = readRole(env);
  const region = requireEnv('AWS_REGION', env);
  const clients = dependencies.clients ?? new ClientCache(region, undefined, new Pacer());
  return withSettings(env, (complete) => buildHandler(complete, role, region, clients), {
    client: dependencies.settingsClient,
    onLoadFailure: async (event, error) => {
      const jobId = jobIdOf(event);
      if (jobId === undefined) throw error;
      const reason = error instanceof SettingsDocumentError || error instanceof ConfigurationError ? error.message : error.name;
      await failJob(clients.get(CodePipelineClient, { region }), jobId, `the ${role} function could not read its settings: ${reason}`);
      return { jobId, outcome: 'failed', reason: 'settings' };
    },
  });
}

function buildHandler(
  env: NodeJS.ProcessEnv, role: PipelineFunctionRoleName, region: string, clients: ClientCache,
): (event: unknown) => Promise<unknown> {
  const codepipeline = () => clients.get(CodePipelineClient, { region });

  let run: (event: unknown) => Promise<unknown>;
  switch (role) {
    case PipelineFunctionRole.HEALTH_CHECK: {
      const checks = readHealthChecks(env);
      // Secret header values are read once per execution environment, in each secret's region.
      const headerValues = new SecretHeaderValues((secretRegion) => clients.get(SecretsManagerClient, { region: secretRegion }));
      run = (event) => handleHealthCheckJob(requireJob(event, role), { codepipeline: codepipeline(), checks, options: { headerValues } });
      break;
    }
    case PipelineFunctionRole.TRAFFIC_SWITCH: {
      const config = readTrafficSwitch(env);
      run = (event) => handleTrafficSwitchJob(requireJob(event, role), { codepipeline: codepipeline(), clients, config });
      break;
    }
    default: {
      const settings = readWatcherSettings(env);
      run = (event) => {
        if (isPipelineJob(event)) throw new Error(`the ${role} function does not run pipeline actions`);
        return handleWatcherEvent(event, settings, {
          codepipeline: codepipeline(),
          ...(settings.notificationTopicArn ? { sns: clients.get(SNSClient, { region }) } : {}),
          ...(settings.rollbackClaimsPath ? { claims: new SsmClaimStore(clients.get(SSMClient, { region })) } : {}),
        });
      };
    }
  }

  return async (event: unknown) => {
    try {
      return await run(event);
    } catch (e) {
      // Errors raised here are value-free by construction; anything else is reduced to its name.
      logger.error('pipeline handler invocation failed', { role, errorName: (e as Error).name });
      throw e;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

function requireJob(event: unknown, role: string): unknown {
  if (!isPipelineJob(event)) {
    throw new Error(`the ${role} function only runs as a CodePipeline Lambda invoke action, but got another event`);
  }
  return event;
}
