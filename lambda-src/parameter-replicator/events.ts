import { CarriedCursor, MAX_NAME_CHARS, parseCursor, UnusableCursor } from './cursor';
import type { ParameterEventOperation, ParameterManualAction } from '../../src/parameter-replicator/contract';
import { PARAMETER_EVENT_DETAIL_TYPE, PARAMETER_EVENT_OPERATIONS, PARAMETER_EVENT_SOURCE } from '../../src/parameter-replicator/contract';

/** A Parameter Store change delivered by EventBridge (`Parameter Store Change`). */
export interface ParameterChange {
  readonly operation: ParameterEventOperation;
  readonly name: string;
  readonly time?: Date;
}

/** What an invocation asks for. */
export type Invocation =
  | { readonly kind: 'change'; readonly change: ParameterChange }
  | { readonly kind: 'manual'; readonly action: ParameterManualAction; readonly cursor?: CarriedCursor }
  | { readonly kind: 'ignored'; readonly reason: string };

/** Characters of an unrecognised input echoed in an error or log line. */
export const MAX_ECHO_CHARS = 64;
const MANUAL_ACTIONS: readonly string[] = ['test_sync', 'connectivity_test', 'reconcile'];

/** A short, printable prefix of something an invocation carried (never its whole, possibly large, content). */
export function echo(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const prefix = value.slice(0, MAX_ECHO_CHARS).replace(/[^\x20-\x7e]/g, '?');
  return value.length > MAX_ECHO_CHARS ? `${JSON.stringify(prefix)} (first ${MAX_ECHO_CHARS} of ${value.length} characters)` : JSON.stringify(prefix);
}

/** A payload the handler cannot act on. Its message names what is wrong, never the payload's content. */
export class MalformedInvocation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedInvocation';
  }
}

/**
 * Classifies an invocation: a Parameter Store change event, a manual or scheduled action, or
 * something to ignore (an operation that changes no value). Throws `MalformedInvocation` on a
 * payload that is neither. An event only names the parameter: the handler always reads the
 * primary's current state, so an event's order, age or repetition does not matter.
 */
export function parseInvocation(payload: unknown): Invocation {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new MalformedInvocation('unsupported payload: expected a JSON object ({"action": ...} or a Parameter Store Change event)');
  }
  const event = payload as Record<string, any>;
  if ('action' in event) {
    if (typeof event.action !== 'string' || !MANUAL_ACTIONS.includes(event.action)) {
      throw new MalformedInvocation(`unknown action ${typeof event.action === 'string' ? echo(event.action) : `of type ${typeof event.action}`}; expected one of ${MANUAL_ACTIONS.join(', ')}`);
    }
    if (event.cursor === undefined) return { kind: 'manual', action: event.action as ParameterManualAction };
    if (event.action === 'connectivity_test') throw new MalformedInvocation('a cursor goes with the action reconcile or test_sync');
    try {
      return { kind: 'manual', action: event.action as ParameterManualAction, cursor: parseCursor(event.cursor) };
    } catch (e) {
      if (e instanceof UnusableCursor) throw new MalformedInvocation(`${e.message}, with the action reconcile or test_sync`);
      throw e;
    }
  }
  if (event['detail-type'] === 'Scheduled Event') return { kind: 'manual', action: 'reconcile' };
  if (event.source !== PARAMETER_EVENT_SOURCE || event['detail-type'] !== PARAMETER_EVENT_DETAIL_TYPE) {
    throw new MalformedInvocation(`unsupported payload: expected {"action": ...} or an event with source ${PARAMETER_EVENT_SOURCE} and detail-type "${PARAMETER_EVENT_DETAIL_TYPE}"`);
  }
  const detail = event.detail;
  if (detail === null || typeof detail !== 'object') throw new MalformedInvocation(`${PARAMETER_EVENT_DETAIL_TYPE} event carries no detail`);
  if (typeof detail.operation !== 'string') throw new MalformedInvocation(`${PARAMETER_EVENT_DETAIL_TYPE} event carries no detail.operation`);
  if (!(PARAMETER_EVENT_OPERATIONS as readonly string[]).includes(detail.operation)) {
    return { kind: 'ignored', reason: `operation ${echo(detail.operation)} is not a replicated change` };
  }
  const name = detail.name;
  if (typeof name !== 'string' || name === '' || name.length > MAX_NAME_CHARS) {
    throw new MalformedInvocation(`${PARAMETER_EVENT_DETAIL_TYPE} event carries no valid detail.name (1 to ${MAX_NAME_CHARS} characters)`);
  }
  const time = typeof event.time === 'string' ? new Date(event.time) : undefined;
  return {
    kind: 'change',
    change: { operation: detail.operation as ParameterEventOperation, name, ...(time && !isNaN(time.getTime()) ? { time } : {}) },
  };
}
