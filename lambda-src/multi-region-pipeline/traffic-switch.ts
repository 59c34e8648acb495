import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import {
  ChangeResourceRecordSetsCommand, ChangeStatus, GetChangeCommand, ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client, RRType,
} from '@aws-sdk/client-route-53';
import { GetParameterCommand, ParameterType, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { failJob, JobConfigurationError, jobContextOf, jobIdOf, parseJob, succeedJob } from './job';
import type {
  Route53WeightedSwitchConfig, SlotName, SsmParameterSwitchConfig, TrafficSwitchActionParameters, TrafficSwitchConfig,
} from '../../src/multi-region-pipeline/contract';
import {
  HOME_SLOT, PipelineMetric, REGION_DIMENSION, REGION_PLACEHOLDER, TrafficSwitchVariable,
} from '../../src/multi-region-pipeline/contract';
import type { ClientCache } from '../shared/clients';
import { addSplitMetric, errorFields, logger, metrics, MetricUnit } from '../shared/observability';

/**
 * The traffic-switch action of a blue-green MultiRegionPipeline: moves one region's traffic to a
 * slot, either by re-weighting a pair of Route 53 weighted records or by writing the live slot's
 * name to an SSM parameter. In a ROLLBACK execution (CodePipeline re-runs the stage's actions with
 * the same configuration) it sends the traffic to the home slot instead, which is how a failed bake
 * returns traffic to the last good version without a redeploy.
 */

/** Route 53 is a global service whose control plane lives in us-east-1 (aws partition). */
const ROUTE53_REGION = 'us-east-1';
/** An AWS region name such as `eu-west-1` or `us-gov-west-1`. */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** Route 53's bounds on a record weight. */
const MIN_LIVE_WEIGHT = 1;
const MAX_WEIGHT = 255;
/**
 * How long to wait for Route 53 to report a change INSYNC, in milliseconds. Changes usually
 * propagate within 60 s; twice that leaves room while staying well inside the function timeout.
 */
const DEFAULT_MAX_WAIT_MS = 120_000;
/** First pause between two GetChange calls, in milliseconds; doubled up to `MAX_POLL_DELAY_MS`. */
const FIRST_POLL_DELAY_MS = 1_000;
/** Longest pause between two GetChange calls, in milliseconds. */
const MAX_POLL_DELAY_MS = 10_000;

/** What a switch did. Every field is value-free. */
export interface SwitchOutcome {
  readonly region: string;
  /** The slot that is live now. */
  readonly liveSlot: SlotName;
  /** The slot that was live before, when that could be told (exactly one record weighted, or a known parameter value). */
  readonly previousSlot?: SlotName;
  /** False when the slot was live already and nothing was written. */
  readonly changed: boolean;
  /** What was switched: `route53 <name> <type>` or `ssm <parameter name>`. */
  readonly target: string;
}

/** Tuning of the wait for Route 53; tests inject `sleep`. */
export interface SwitchOptions {
  /** @default - a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Longest total pause while waiting for INSYNC, in milliseconds. @default 120000 */
  readonly maxWaitMs?: number;
}

/**
 * An error this module raises itself. Its message names records and parameters only, so unlike an
 * SDK error's message it may be shown in logs and in the pipeline console.
 */
export class TrafficSwitchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrafficSwitchError';
  }
}

/**
 * The slot a switch action sends traffic to: the home slot in a ROLLBACK execution, whatever the
 * action asked for, and the requested slot otherwise.
 *
 * @example
 * targetSlot('green', 'ROLLBACK'); // 'blue'
 */
export function targetSlot(requested: SlotName, executionType: 'STANDARD' | 'ROLLBACK' | undefined): SlotName {
  return executionType === 'ROLLBACK' ? HOME_SLOT : requested;
}

/**
 * Value-free description of what a switch writes in `region`: `route53 <record name> <type>` or
 * `ssm <parameter name>`.
 *
 * @example
 * describeTarget({ type: 'ssm-parameter', parameterName: '/app/{region}/live-slot' }, 'eu-west-1'); // 'ssm /app/eu-west-1/live-slot'
 */
export function describeTarget(config: TrafficSwitchConfig, region: string): string {
  return config.type === 'route53-weighted'
    ? `route53 ${absoluteName(substituteRegion(config.recordName, region))} ${config.recordType.toUpperCase()}`
    : `ssm ${substituteRegion(config.parameterName, region)}`;
}

/**
 * Moves `region`'s traffic to `slot`. Idempotent: a slot that is live already is left alone
 * (`changed: false`).
 *
 * @example
 * const outcome = await switchTraffic(config, 'eu-west-1', 'green', new ClientCache('eu-west-1'));
 */
export async function switchTraffic(
  config: TrafficSwitchConfig, region: string, slot: SlotName, clients: ClientCache, options: SwitchOptions = {},
): Promise<SwitchOutcome> {
  switch (config.type) {
    case 'route53-weighted':
      return switchWeightedRecords(config, region, slot, clients.get(Route53Client, { region: ROUTE53_REGION }), options);
    case 'ssm-parameter':
      return switchParameter(config, region, slot, clients.get(SSMClient, { region }));
    default:
      throw new TrafficSwitchError(`unknown traffic switch type ${JSON.stringify((config as { type?: unknown }).type)}`);
  }
}

async function switchWeightedRecords(
  config: Route53WeightedSwitchConfig, region: string, slot: SlotName, route53: Route53Client, options: SwitchOptions,
): Promise<SwitchOutcome> {
  if (!Number.isInteger(config.liveWeight) || config.liveWeight < MIN_LIVE_WEIGHT || config.liveWeight > MAX_WEIGHT) {
    // With a live weight of 0 both records would weigh 0, and Route 53 splits traffic evenly.
    throw new TrafficSwitchError(`liveWeight must be an integer from ${MIN_LIVE_WEIGHT} to ${MAX_WEIGHT}, but got ${config.liveWeight}`);
  }
  const name = absoluteName(substituteRegion(config.recordName, region));
  const type = config.recordType.toUpperCase();
  const target = `route53 ${name} ${type}`;
  const records = await listRecordsAt(route53, config.hostedZoneId, name, type);

  const pair = { blue: config.setIdentifiers.blue, green: config.setIdentifiers.green };
  const find = (which: SlotName): ResourceRecordSet => {
    const record = records.find((r) => r.SetIdentifier === pair[which]);
    if (!record) {
      throw new TrafficSwitchError(`${target} in hosted zone ${config.hostedZoneId} has no record with set identifier "${pair[which]}" (the ${which} slot)`);
    }
    if (record.Weight === undefined) {
      throw new TrafficSwitchError(`${target} with set identifier "${pair[which]}" (the ${which} slot) is not a weighted record`);
    }
    return record;
  };
  const current = { blue: find('blue'), green: find('green') };
  const live = (s: SlotName) => current[s].Weight! > 0;
  const previousSlot = live('blue') !== live('green') ? (live('blue') ? 'blue' : 'green') : undefined;
  const other: SlotName = slot === 'blue' ? 'green' : 'blue';

  if (current[slot].Weight === config.liveWeight && current[other].Weight === 0) {
    return { region, liveSlot: slot, ...(previousSlot ? { previousSlot } : {}), changed: false, target };
  }
  // One batch, so Route 53 applies both weights atomically: never both 0 (even split) nor both live.
  // Every other field is sent back as read, because UPSERT replaces the whole record.
  const out = await route53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: config.hostedZoneId,
    ChangeBatch: {
      Comment: `MultiRegionPipeline traffic switch: ${region} to ${slot}`,
      Changes: [
        { Action: 'UPSERT', ResourceRecordSet: { ...current[slot], Weight: config.liveWeight } },
        { Action: 'UPSERT', ResourceRecordSet: { ...current[other], Weight: 0 } },
      ],
    },
  }));
  if (out.ChangeInfo?.Status !== ChangeStatus.INSYNC) {
    await waitForChange(route53, out.ChangeInfo?.Id, target, options);
  }
  return { region, liveSlot: slot, ...(previousSlot ? { previousSlot } : {}), changed: true, target };
}

/** The records of one name and type; ListResourceRecordSets starts there and pages until past them. */
async function listRecordsAt(route53: Route53Client, hostedZoneId: string, name: string, type: string): Promise<ResourceRecordSet[]> {
  const found: ResourceRecordSet[] = [];
  let start: { name: string; type: string; identifier?: string } = { name, type };
  for (;;) {
    const page = await route53.send(new ListResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      StartRecordName: start.name,
      StartRecordType: start.type as RRType,
      ...(start.identifier !== undefined ? { StartRecordIdentifier: start.identifier } : {}),
    }));
    for (const record of page.ResourceRecordSets ?? []) {
      if (absoluteName(decodeName(record.Name ?? '')) !== name || record.Type !== type) return found;
      found.push(record);
    }
    if (!page.IsTruncated || !page.NextRecordName) return found;
    const next = { name: page.NextRecordName, type: page.NextRecordType ?? type, identifier: page.NextRecordIdentifier };
    if (next.name === start.name && next.type === start.type && next.identifier === start.identifier) {
      // A page that does not advance would be read forever (an emulator without StartRecordIdentifier).
      throw new TrafficSwitchError(`ListResourceRecordSets for ${name} ${type} did not advance: its next page starts where the last one did`);
    }
    start = next;
  }
}

/**
 * Waits until Route 53 reports change `changeId` INSYNC, pausing 1 s, 2 s, 4 s ... (at most 10 s)
 * between polls, for at most `maxWaitMs` of pauses in total. Throws when it is still pending then.
 *
 * @example
 * await waitForChange(route53, '/change/C2682N5HXP0BZ4', 'route53 api.example.com. A');
 */
export async function waitForChange(
  route53: Route53Client, changeId: string | undefined, target: string, options: SwitchOptions = {},
): Promise<void> {
  if (!changeId) throw new TrafficSwitchError(`ChangeResourceRecordSets for ${target} returned no change id`);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  let waited = 0;
  let delay = FIRST_POLL_DELAY_MS;
  for (;;) {
    const out = await route53.send(new GetChangeCommand({ Id: changeId }));
    if (out.ChangeInfo?.Status === ChangeStatus.INSYNC) return;
    if (waited >= maxWaitMs) {
      throw new TrafficSwitchError(`change ${changeId} to ${target} was submitted but not INSYNC after ${Math.round(waited / 1000)} s`);
    }
    const pause = Math.min(delay, maxWaitMs - waited);
    await sleep(pause);
    waited += pause;
    delay = Math.min(delay * 2, MAX_POLL_DELAY_MS);
  }
}

async function switchParameter(config: SsmParameterSwitchConfig, region: string, slot: SlotName, ssm: SSMClient): Promise<SwitchOutcome> {
  const name = substituteRegion(config.parameterName, region);
  const target = `ssm ${name}`;
  let current: string | undefined;
  try {
    current = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (e) {
    if ((e as Error).name !== 'ParameterNotFound') throw e;
  }
  // Anything but a slot name (a hand-written value) means the previous slot is unknown; it is not echoed.
  const previousSlot = current === 'blue' || current === 'green' ? current : undefined;
  if (current === slot) {
    return { region, liveSlot: slot, ...(previousSlot ? { previousSlot } : {}), changed: false, target };
  }
  await ssm.send(new PutParameterCommand({ Name: name, Type: ParameterType.STRING, Overwrite: true, Value: slot }));
  return { region, liveSlot: slot, ...(previousSlot ? { previousSlot } : {}), changed: true, target };
}

function substituteRegion(template: string, region: string): string {
  return template.split(REGION_PLACEHOLDER).join(region);
}

/** Lower case with one trailing dot, the way Route 53 lists names. */
function absoluteName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Route 53 lists some characters as octal escapes (`*` as `\052`). */
function decodeName(name: string): string {
  return name.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Checks a traffic-switch action's `UserParameters`; throws `JobConfigurationError` naming the bad field. */
export function parseTrafficSwitchParameters(value: unknown): TrafficSwitchActionParameters {
  const p = value as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new JobConfigurationError('the traffic-switch action UserParameters must be a JSON object with "region" and "slot"');
  }
  if (typeof p.region !== 'string' || !AWS_REGION.test(p.region)) {
    throw new JobConfigurationError(`the traffic-switch action UserParameters field "region" must be an AWS region such as "eu-west-1", but got ${JSON.stringify(p.region)?.slice(0, 64)}`);
  }
  if (p.slot !== 'blue' && p.slot !== 'green') {
    throw new JobConfigurationError(`the traffic-switch action UserParameters field "slot" must be "blue" or "green", but got ${JSON.stringify(p.slot)?.slice(0, 64)}`);
  }
  return { region: p.region, slot: p.slot };
}

/** What `handleTrafficSwitchJob` needs; the entry point builds it once per execution environment. */
export interface TrafficSwitchDependencies {
  readonly codepipeline: CodePipelineClient;
  readonly clients: ClientCache;
  readonly config: TrafficSwitchConfig;
  /** @default - real timers, a 2-minute wait for INSYNC */
  readonly switchOptions?: SwitchOptions;
}

/**
 * Runs one traffic-switch job: reads the action's region and slot, asks CodePipeline whether this
 * is a ROLLBACK execution (then the home slot wins), switches, and reports the job with the output
 * variables `LiveSlot` and `PreviousSlot` (`unknown` when it could not be told).
 *
 * Returns the outcome, or undefined when the job was failed. Throws when the event is no job (there
 * is nothing to report to) and when reporting the job fails (Lambda retries the invocation).
 *
 * @example
 * export const handler = (event: unknown) => handleTrafficSwitchJob(event, { codepipeline, clients, config });
 */
export async function handleTrafficSwitchJob(event: unknown, deps: TrafficSwitchDependencies): Promise<SwitchOutcome | undefined> {
  const jobId = jobIdOf(event);
  if (jobId === undefined) {
    throw new JobConfigurationError('the event is not a CodePipeline job: "CodePipeline.job".id is missing');
  }
  let params: TrafficSwitchActionParameters;
  try {
    params = parseTrafficSwitchParameters(parseJob(event).userParameters);
  } catch (e) {
    if (!(e instanceof JobConfigurationError)) throw e;
    logger.error('traffic switch job has bad parameters', { jobId, ...errorFields(e), reason: e.message });
    metrics.addMetric(PipelineMetric.TRAFFIC_SWITCH_FAILED, MetricUnit.Count, 1);
    await failJob(deps.codepipeline, jobId, e.message, true);
    return undefined;
  }

  const { region, slot: requestedSlot } = params;
  const target = describeTarget(deps.config, region);
  let executionType: 'STANDARD' | 'ROLLBACK' | undefined;
  let slot: SlotName = requestedSlot;
  let outcome: SwitchOutcome;
  try {
    const context = await jobContextOf(deps.codepipeline, jobId);
    const execution = await deps.codepipeline.send(new GetPipelineExecutionCommand({
      pipelineName: context.pipelineName, pipelineExecutionId: context.pipelineExecutionId,
    }));
    const type = execution.pipelineExecution?.executionType;
    executionType = type === 'ROLLBACK' || type === 'STANDARD' ? type : undefined;
    slot = targetSlot(requestedSlot, executionType);
    outcome = await switchTraffic(deps.config, region, slot, deps.clients, deps.switchOptions);
  } catch (e) {
    const fields = errorFields(e);
    const ours = e instanceof TrafficSwitchError || e instanceof JobConfigurationError;
    logger.error('traffic switch failed', {
      jobId,
      region,
      requestedSlot,
      targetSlot: slot,
      executionType: executionType ?? 'unknown',
      target,
      ...fields,
      ...(ours ? { reason: (e as Error).message } : {}),
    });
    addSplitMetric(PipelineMetric.TRAFFIC_SWITCH_FAILED, MetricUnit.Count, 1, REGION_DIMENSION, region);
    // An SDK message may quote request input, so only our own messages are shown.
    const why = ours ? (e as Error).message : `${fields.errorName}${fields.httpStatus ? ` (HTTP ${fields.httpStatus})` : ''}`;
    await failJob(deps.codepipeline, jobId, `switching ${region} to ${slot} failed (${target}): ${why}`, e instanceof JobConfigurationError);
    return undefined;
  }

  logger.info('traffic switched', {
    jobId,
    region,
    requestedSlot,
    targetSlot: slot,
    executionType: executionType ?? 'unknown',
    changed: outcome.changed,
    previousSlot: outcome.previousSlot ?? 'unknown',
    target: outcome.target,
  });
  addSplitMetric(PipelineMetric.TRAFFIC_SWITCHED, MetricUnit.Count, 1, REGION_DIMENSION, region);
  const previous = outcome.previousSlot ?? 'unknown';
  const summary = `${region}: ${outcome.changed ? `traffic moved to ${slot} (was ${previous})` : `${slot} was live already`}`
    + `${slot !== requestedSlot ? `; a rollback execution, so the home slot instead of ${requestedSlot}` : ''} (${outcome.target})`;
  await succeedJob(deps.codepipeline, jobId, summary, {
    [TrafficSwitchVariable.LIVE_SLOT]: outcome.liveSlot,
    [TrafficSwitchVariable.PREVIOUS_SLOT]: previous,
  });
  return outcome;
}
