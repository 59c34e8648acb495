import * as http from 'node:http';
import * as https from 'node:https';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { failJob, JobConfigurationError, jobIdOf, parseJob, succeedJob } from './job';
import type { HealthCheckActionParameters, HttpCheckConfig, SecretHeaderConfig, SlotName } from '../../src/multi-region-pipeline/contract';
import { PipelineMetric, REGION_DIMENSION, REGION_PLACEHOLDER, SLOT_PLACEHOLDER } from '../../src/multi-region-pipeline/contract';
import { addSplitMetric, errorFields, logger, MetricUnit } from '../shared/observability';

/**
 * The health-check action of a MultiRegionPipeline: HTTP checks of one region (and slot), each
 * repeated until it answers healthy enough times in a row or runs out of attempts.
 *
 * Value-free by construction: response bodies are counted and discarded, never kept; URLs are
 * reported without user info, query string or fragment; failures are reported as categories.
 */

/** Sent with every request, so the application's logs can tell health checks from users. */
export const HEALTH_CHECK_USER_AGENT = 'cdk-cross-region-config-health-check';

/** How much of a response body is read before the connection is dropped, in bytes (64 KiB). */
const MAX_BODY_BYTES = 64 * 1024;

/** An AWS region name (`eu-west-1`, `us-gov-west-1`, `cn-northwest-1`, `eu-isoe-west-1`). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Longest received value quoted in a configuration error message, in characters. */
const MAX_QUOTED = 40;

/** OpenSSL certificate-verification codes, as Node sets them on `error.code`. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED', 'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'EPROTO',
]);

/** getaddrinfo failures: the host name did not resolve. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/** Hooks for tests and the entry point; every one has a production default. */
export interface HealthCheckOptions {
  /**
   * Waits between two requests of a check.
   * @default - a real timer
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The clock latencies and durations are measured with, in milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Reads the values of headers taken from Secrets Manager; required when a check has headers.
   * @default - none
   */
  readonly headerValues?: SecretHeaderValues;
}

/** Statuses after which a secret header's value is read again and the request repeated: it may have been rotated. */
const REFUSED_STATUSES = new Set([401, 403]);
/** What an HTTP header value may hold: visible ASCII, Latin-1, space and tab; never a line break. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The values of health-check headers taken from Secrets Manager: each secret is read once
 * (GetSecretValue in the secret's own region) and kept for the life of the execution environment,
 * or until a check using it is refused with 401 or 403, which may mean it was rotated: then it is
 * read again at once (at most once a run) and the refused request repeated. Values are
 * held in memory only: never logged, returned or put in an error message.
 */
export class SecretHeaderValues {
  private readonly secrets = new Map<string, Promise<string>>();
  /** GetSecretValue calls made (for tests and benchmarks). */
  public reads = 0;

  constructor(private readonly clientFor: (region: string) => SecretsManagerClient) {}

  /** The value to send for `header` of check `checkName`; throws a value-free JobConfigurationError when it cannot be had. */
  async value(checkName: string, header: SecretHeaderConfig): Promise<string> {
    const where = `health check "${checkName}": header ${header.name}`;
    const secretString = await this.secretString(header.secretArn, where);
    let value: string;
    if (header.jsonField === undefined) {
      value = secretString;
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(secretString);
      } catch {
        throw new JobConfigurationError(`${where}: the secret's value is not JSON, so it has no field ${JSON.stringify(header.jsonField)}`);
      }
      const field = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[header.jsonField] : undefined;
      if (typeof field !== 'string' && typeof field !== 'number') {
        throw new JobConfigurationError(`${where}: the secret's JSON value has no string field ${JSON.stringify(header.jsonField)}`);
      }
      value = String(field);
    }
    const full = `${header.prefix ?? ''}${value}`;
    if (!HEADER_VALUE.test(full)) throw new JobConfigurationError(`${where}: the secret's value has characters an HTTP header cannot carry (a line break or a control character)`);
    return full;
  }

  /** Drops the kept value of `secretArn`, so that the next `value()` reads it again. */
  forget(secretArn: string): void {
    this.secrets.delete(secretArn);
  }

  private secretString(secretArn: string, where: string): Promise<string> {
    let pending = this.secrets.get(secretArn);
    if (!pending) {
      pending = this.read(secretArn, where);
      this.secrets.set(secretArn, pending);
      // A failed read is not kept: the next run tries again.
      pending.catch(() => this.secrets.delete(secretArn));
    }
    return pending;
  }

  private async read(secretArn: string, where: string): Promise<string> {
    const region = secretArn.split(':')[3];
    if (!region) throw new JobConfigurationError(`${where}: the secret ARN has no region`);
    this.reads++;
    let out;
    try {
      out = await this.clientFor(region).send(new GetSecretValueCommand({ SecretId: secretArn }));
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'ResourceNotFoundException') throw new JobConfigurationError(`${where}: the secret does not exist (ResourceNotFoundException)`);
      if (name === 'AccessDeniedException' || name === 'AccessDenied') throw new JobConfigurationError(`${where}: the function may not read the secret (${name})`);
      if (name === 'DecryptionFailure') throw new JobConfigurationError(`${where}: the secret cannot be decrypted with its key (${name})`);
      throw e;
    }
    if (typeof out.SecretString !== 'string') throw new JobConfigurationError(`${where}: the secret has no string value (SecretString)`);
    return out.SecretString;
  }
}

/** The outcome of one check, value-free: fit for logs, the report and CodePipeline. */
export interface CheckResult {
  readonly name: string;
  /** The URL requested, without user info, query string or fragment. */
  readonly url: string;
  readonly passed: boolean;
  /** Requests made (a request refused with 401 or 403 and repeated with a changed secret header counts once). */
  readonly attempts: number;
  /** Longest run of healthy responses in a row (equals `requiredSuccesses` when passed). */
  readonly consecutiveSuccesses: number;
  /** Healthy responses in a row the check needed. */
  readonly requiredSuccesses: number;
  /** Time each request took, in milliseconds, in order (a failed request's time to failure). */
  readonly latenciesMs: number[];
  /**
   * Why the last unhealthy request was unhealthy: `status <code>`, `slow (<ms> ms > <threshold> ms)`,
   * `timeout after <s> s`, `connection refused`, `tls error (<code>)`, `dns error` or
   * `network error (<code>)`. Absent when every request was healthy.
   */
  readonly lastFailure?: string;
}

/** The outcome of a health-check action. */
export interface HealthCheckReport {
  readonly region: string;
  readonly slot?: SlotName;
  /** True when every check passed. */
  readonly passed: boolean;
  readonly checks: CheckResult[];
  /** Wall-clock time of the whole run (checks run in parallel), in milliseconds. */
  readonly durationMs: number;
}

/**
 * Fills the `{region}` and `{slot}` placeholders of a health-check URL.
 *
 * @example
 * resolveCheckUrl('https://{slot}.{region}.api.example.com/health', 'eu-west-1', 'green');
 * // 'https://green.eu-west-1.api.example.com/health'
 */
export function resolveCheckUrl(template: string, region: string, slot?: SlotName): string {
  if (template.includes(SLOT_PLACEHOLDER) && slot === undefined) {
    throw new Error(`the URL uses ${SLOT_PLACEHOLDER} but the action has no slot; ${SLOT_PLACEHOLDER} is only available under blue-green deployment`);
  }
  const withRegion = template.split(REGION_PLACEHOLDER).join(region);
  return slot === undefined ? withRegion : withRegion.split(SLOT_PLACEHOLDER).join(slot);
}

/**
 * Reads and checks the `UserParameters` of a health-check action. Throws `JobConfigurationError`
 * naming the field and what is allowed.
 *
 * @example
 * parseHealthCheckParameters({ region: 'eu-west-1', slot: 'green' });
 */
export function parseHealthCheckParameters(input: unknown): HealthCheckActionParameters {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new JobConfigurationError(`UserParameters must be a JSON object with "region" and an optional "slot", but got ${describe(input)}`);
  }
  const { region, slot } = input as Record<string, unknown>;
  if (typeof region !== 'string' || !REGION_NAME.test(region)) {
    throw new JobConfigurationError(`UserParameters.region must be an AWS region name such as "eu-west-1", but got ${describe(region)}`);
  }
  if (slot !== undefined && slot !== 'blue' && slot !== 'green') {
    throw new JobConfigurationError(`UserParameters.slot must be "blue", "green" or absent, but got ${describe(slot)}`);
  }
  return slot === undefined ? { region } : { region, slot };
}

/** A received value for a message: short strings quoted, anything else by type only. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value.length <= MAX_QUOTED ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return value === undefined ? 'nothing' : `a ${typeof value}`;
}

/** The URL as it may be shown: scheme, host, port and path only. */
function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Runs a region's checks in parallel and reports each. Emits `HealthCheckLatency` per response
 * and `HealthCheckPassed` or `HealthCheckFailed` once, each in total and per region; the caller
 * publishes the stored metrics.
 *
 * Throws `JobConfigurationError` before any request when a check's URL cannot be built (a
 * `{slot}` without a slot, or not an http(s) URL).
 *
 * @example
 * const report = await runHealthChecks(checks, { region: 'eu-west-1', slot: 'green' });
 * if (!report.passed) console.log(summarizeReport(report));
 */
export async function runHealthChecks(
  checks: HttpCheckConfig[], params: HealthCheckActionParameters, options: HealthCheckOptions = {},
): Promise<HealthCheckReport> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  const targets = checks.map((check) => ({ check, url: checkUrl(check, params) }));
  const headers = await Promise.all(checks.map((check) => secretHeaders(check, options.headerValues)));

  // Secrets read again in this run after a refusal: each at most once, however many checks use it.
  const reread = new Set<string>();
  const rereadHeaders = async (check: HttpCheckConfig, sent: Record<string, string>): Promise<Record<string, string> | undefined> => {
    if (!check.headers?.length || !options.headerValues) return undefined;
    let forgotten = false;
    for (const header of check.headers) {
      if (reread.has(header.secretArn)) continue;
      reread.add(header.secretArn);
      options.headerValues.forget(header.secretArn);
      forgotten = true;
    }
    const fresh = await secretHeaders(check, options.headerValues);
    // Repeated only with a changed value (a secret another check read again counts too).
    const changed = Object.keys(fresh).some((name) => fresh[name] !== sent[name]);
    if (changed) logger.warn('health check refused (401 or 403): its secret headers changed since they were read; the request is repeated', { check: check.name });
    else if (forgotten) logger.warn('health check refused (401 or 403): its secret headers were read again and have not changed', { check: check.name });
    return changed ? fresh : undefined;
  };

  const results = await Promise.all(targets.map(({ check, url }, i) => runCheck(check, url, headers[i], params.region, now, sleep, rereadHeaders)));
  const passed = results.every((r) => r.passed);
  const outcome = passed ? PipelineMetric.HEALTH_CHECK_PASSED : PipelineMetric.HEALTH_CHECK_FAILED;
  addSplitMetric(outcome, MetricUnit.Count, 1, REGION_DIMENSION, params.region);
  return {
    region: params.region,
    ...(params.slot !== undefined ? { slot: params.slot } : {}),
    passed,
    checks: results,
    durationMs: Math.round(now() - started),
  };
}

function checkUrl(check: HttpCheckConfig, params: HealthCheckActionParameters): URL {
  let url: URL;
  try {
    url = new URL(resolveCheckUrl(check.url, params.region, params.slot));
  } catch (e) {
    // resolveCheckUrl's message is ours; URL's would quote the URL, which may hold a token.
    const why = (e as Error).message.startsWith('the URL uses') ? (e as Error).message : 'the URL is not valid';
    throw new JobConfigurationError(`health check "${check.name}": ${why}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new JobConfigurationError(`health check "${check.name}": the URL must start with http:// or https://, but uses ${JSON.stringify(url.protocol)}`);
  }
  return url;
}

/** The check's secret headers, name to value (an empty object without headers). */
async function secretHeaders(check: HttpCheckConfig, values: SecretHeaderValues | undefined): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const header of check.headers ?? []) {
    if (!values) throw new JobConfigurationError(`health check "${check.name}": header ${header.name} needs a reader of Secrets Manager values`);
    headers[header.name.toLowerCase()] = await values.value(check.name, header);
  }
  return headers;
}

async function runCheck(
  check: HttpCheckConfig, url: URL, headers: Record<string, string>, region: string, now: () => number, sleep: (ms: number) => Promise<void>,
  rereadHeaders: (check: HttpCheckConfig, sent: Record<string, string>) => Promise<Record<string, string> | undefined>,
): Promise<CheckResult> {
  const latenciesMs: number[] = [];
  let streak = 0;
  let bestStreak = 0;
  let lastFailure: string | undefined;
  let attempts = 0;
  while (attempts < check.maxAttempts && streak < check.consecutiveSuccesses) {
    if (attempts > 0) await sleep(check.intervalSeconds * 1000);
    attempts++;
    let outcome = await probe(url, check.timeoutSeconds * 1000, now, headers);
    if (outcome.status !== undefined && REFUSED_STATUSES.has(outcome.status)) {
      // A secret header may have been rotated since it was read: read it again and repeat this
      // attempt with the new value (the refused request is not counted).
      const fresh = await rereadHeaders(check, headers);
      if (fresh !== undefined) {
        headers = fresh;
        outcome = await probe(url, check.timeoutSeconds * 1000, now, headers);
      }
    }
    latenciesMs.push(outcome.latencyMs);
    // Only answered requests: a refused connection is not a fast response, a timeout not a slow one.
    if (outcome.status !== undefined) {
      addSplitMetric(PipelineMetric.HEALTH_CHECK_LATENCY, MetricUnit.Milliseconds, outcome.latencyMs, REGION_DIMENSION, region);
    }
    const failure = outcome.failure ?? verdict(check, outcome.status!, outcome.latencyMs);
    if (failure === undefined) {
      streak++;
      bestStreak = Math.max(bestStreak, streak);
    } else {
      streak = 0;
      lastFailure = failure;
    }
  }
  const passed = streak >= check.consecutiveSuccesses;
  const result: CheckResult = {
    name: check.name,
    url: displayUrl(url),
    passed,
    attempts,
    consecutiveSuccesses: bestStreak,
    requiredSuccesses: check.consecutiveSuccesses,
    latenciesMs,
    ...(lastFailure !== undefined ? { lastFailure } : {}),
  };
  const fields = { check: result.name, url: result.url, passed, attempts, consecutiveSuccesses: bestStreak, reason: lastFailure };
  if (passed) logger.info('health check passed', fields);
  else logger.warn('health check failed', fields);
  return result;
}

/** Why a response is unhealthy, or undefined when it is healthy. */
function verdict(check: HttpCheckConfig, status: number, latencyMs: number): string | undefined {
  if (!check.expectedStatuses.includes(status)) return `status ${status}`;
  if (check.latencyThresholdMs !== undefined && latencyMs > check.latencyThresholdMs) {
    return `slow (${latencyMs} ms > ${check.latencyThresholdMs} ms)`;
  }
  return undefined;
}

interface ProbeOutcome {
  readonly latencyMs: number;
  /** Set when a response arrived. */
  readonly status?: number;
  /** Set when no response arrived (or it broke off): a value-free reason. */
  readonly failure?: string;
}

/**
 * One GET, on its own connection (a pooled one would hide a failing listener), with certificate
 * verification against Node's default trust store, no redirects followed, and a deadline from
 * connect to the last byte of the body. Never rejects.
 */
function probe(url: URL, timeoutMs: number, now: () => number, headers: Record<string, string> = {}): Promise<ProbeOutcome> {
  const started = now();
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let request: http.ClientRequest | undefined;
    const finish = (outcome: { status?: number; failure?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ latencyMs: Math.round(now() - started), ...outcome });
    };
    const fail = (error: unknown) => finish({ failure: timedOut ? `timeout after ${timeoutMs / 1000} s` : failureReason(error) });
    const timer = setTimeout(() => {
      timedOut = true;
      request?.destroy();
      fail(undefined);
    }, timeoutMs);

    const transport = url.protocol === 'https:' ? https : http;
    try {
      request = transport.get(url, { agent: false, headers: { ...headers, 'user-agent': HEALTH_CHECK_USER_AGENT } }, (response) => {
        const status = response.statusCode ?? 0;
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= MAX_BODY_BYTES) {
            finish({ status });
            response.destroy();
          }
        });
        response.on('end', () => finish({ status }));
        response.on('error', fail);
        response.on('close', () => {
          if (!response.complete) fail(Object.assign(new Error('response ended early'), { code: 'ECONNRESET' }));
        });
      });
    } catch (e) {
      fail(e);
      return;
    }
    request.on('error', fail);
  });
}

/**
 * A value-free category for a request error. Node's codes are fixed identifiers; its messages
 * may quote the host or address, so they are never used.
 */
export function failureReason(error: unknown): string {
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(raw) ? raw : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code !== undefined && DNS_CODES.has(code)) return 'dns error';
  if (code !== undefined && (TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) return `tls error (${code})`;
  return `network error (${code ?? 'unknown'})`;
}

/**
 * One line for CodePipeline's execution summary or failure message: region, slot, and per check
 * only names, counts, statuses and categories.
 *
 * @example
 * summarizeReport(report);
 * // 'eu-west-1 green: 1 of 2 checks failed: api (status 503 after 5 attempts)'
 */
export function summarizeReport(report: HealthCheckReport): string {
  const where = report.slot !== undefined ? `${report.region} ${report.slot}` : report.region;
  const total = report.checks.length;
  const checks = total === 1 ? 'check' : 'checks';
  if (report.passed) {
    const details = report.checks.map((c) => `${c.name} (${c.consecutiveSuccesses} healthy in a row, max ${Math.max(0, ...c.latenciesMs)} ms)`);
    return `${where}: ${total} of ${total} ${checks} passed${details.length > 0 ? `: ${details.join(', ')}` : ''}`;
  }
  const failed = report.checks.filter((c) => !c.passed);
  const details = failed.map((c) => {
    const attempts = `${c.attempts} ${c.attempts === 1 ? 'attempt' : 'attempts'}`;
    // A check that failed with no unhealthy response ran out of attempts before its streak was long enough.
    return `${c.name} (${c.lastFailure ?? `${c.consecutiveSuccesses} of ${c.requiredSuccesses} healthy in a row`} after ${attempts})`;
  });
  return `${where}: ${failed.length} of ${total} ${checks} failed: ${details.join(', ')}`;
}

/** What the health-check action needs besides its event. */
export interface HealthCheckJobDependencies {
  readonly codepipeline: CodePipelineClient;
  /** The function's checks (from `PipelineEnv.HEALTH_CHECKS`). */
  readonly checks: HttpCheckConfig[];
  readonly options?: HealthCheckOptions;
}

/**
 * Runs a health-check action's job and reports it to CodePipeline: success with the summary and
 * the output variables `HealthyChecks` and `Region`, JobFailed with the summary, or
 * ConfigurationError (returning undefined) for parameters or checks it cannot run; an unexpected
 * error while checking is reported as JobFailed with its name only. Throws when the event has no
 * job id, or when reporting the result fails, so Lambda retries the invocation.
 *
 * @example
 * export const handler = (event: unknown) => handleHealthCheckJob(event, { codepipeline, checks });
 */
export async function handleHealthCheckJob(event: unknown, deps: HealthCheckJobDependencies): Promise<HealthCheckReport | undefined> {
  const jobId = jobIdOf(event);
  if (jobId === undefined) {
    throw new Error('the event is not a CodePipeline job: "CodePipeline.job".id is missing, so there is no job to report to');
  }
  let report: HealthCheckReport;
  try {
    const params = parseHealthCheckParameters(parseJob(event).userParameters);
    if (deps.checks.length === 0) {
      throw new JobConfigurationError('the function has no health checks configured');
    }
    report = await runHealthChecks(deps.checks, params, deps.options);
  } catch (e) {
    if (e instanceof JobConfigurationError) {
      logger.error('health-check job has a configuration error', { jobId, errorName: e.name, errorMessage: e.message });
      await failJob(deps.codepipeline, jobId, e.message, true);
      return undefined;
    }
    // Requests never throw, so this is a bug; report it rather than leave the action waiting for its timeout.
    const fields = errorFields(e);
    logger.error('health checks could not run', { jobId, ...fields });
    await failJob(deps.codepipeline, jobId, `health checks could not run (${fields.errorName})`);
    return undefined;
  }
  const summary = summarizeReport(report);
  if (report.passed) {
    await succeedJob(deps.codepipeline, jobId, summary, { HealthyChecks: String(report.checks.length), Region: report.region });
  } else {
    await failJob(deps.codepipeline, jobId, summary);
  }
  logger.info('health-check job reported', { jobId, region: report.region, slot: report.slot, passed: report.passed, durationMs: report.durationMs });
  return report;
}
