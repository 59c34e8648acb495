import type { ManualAction } from '../../src/secret-replicator/contract';
import { SECRET_EVENT_NAMES } from '../../src/secret-replicator/contract';

/** A Secrets Manager change delivered by EventBridge from CloudTrail. */
export interface SecretChange {
  readonly eventName: string;
  /** Name or (partial) ARN of the changed secret, as the caller gave it. */
  readonly secretId: string;
  readonly eventTime?: Date;
  /**
   * `value` when the event can only have changed the secret's value or its staging labels (the
   * handler then reads the primary with one GetSecretValue); `any` otherwise.
   */
  readonly kind: 'value' | 'any';
}

/** Events that change a secret's value or version stages, never its description or tags. */
const VALUE_EVENT_NAMES: readonly string[] = ['PutSecretValue', 'UpdateSecretVersionStage', 'RotateSecret', 'RotationSucceeded'];

/** Characters of an unrecognised input echoed in an error or log line: enough to recognise it. */
export const MAX_ECHO_CHARS = 64;

/**
 * A short, printable prefix of something an invocation carried, for an error message or a log
 * line: at most `MAX_ECHO_CHARS` characters, anything outside printable ASCII replaced with `?`,
 * and the full length named when it was cut. A payload can be large and can hold anything.
 */
export function echo(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const prefix = value.slice(0, MAX_ECHO_CHARS).replace(/[^\x20-\x7e]/g, '?');
  return value.length > MAX_ECHO_CHARS ? `${JSON.stringify(prefix)} (first ${MAX_ECHO_CHARS} of ${value.length} characters)` : JSON.stringify(prefix);
}

/** What an invocation asks for. */
export type Invocation =
  | { readonly kind: 'change'; readonly change: SecretChange }
  | { readonly kind: 'manual'; readonly action: ManualAction }
  | { readonly kind: 'ignored'; readonly reason: string };

const MANUAL_ACTIONS: readonly string[] = ['test_sync', 'connectivity_test', 'reconcile'];

/**
 * Classifies an invocation payload: a CloudTrail change event, a manual or scheduled action, or
 * something to ignore (a failed API call recorded by CloudTrail, an unknown event). Throws on a
 * payload that is neither, naming the problem (never echoing the payload: it could hold values).
 */
export function parseInvocation(payload: unknown): Invocation {
  const event = (payload ?? {}) as Record<string, any>;
  if (typeof event.action === 'string') {
    if (!MANUAL_ACTIONS.includes(event.action)) {
      throw new Error(`unknown action ${echo(event.action)}; expected one of ${MANUAL_ACTIONS.join(', ')}`);
    }
    return { kind: 'manual', action: event.action as ManualAction };
  }
  if (event['detail-type'] === 'Scheduled Event') {
    return { kind: 'manual', action: 'reconcile' };
  }
  const detail = event.detail as Record<string, any> | undefined;
  if (!detail || typeof detail.eventName !== 'string') {
    throw new Error('unsupported payload: expected {"action": ...} or a Secrets Manager CloudTrail event');
  }
  if (!(SECRET_EVENT_NAMES as readonly string[]).includes(detail.eventName)) {
    return { kind: 'ignored', reason: `event ${echo(detail.eventName)} is not a replicated change` };
  }
  if (detail.errorCode) {
    return { kind: 'ignored', reason: `${detail.eventName} failed (${echo(String(detail.errorCode))}); nothing changed` };
  }
  const secretId = detail.requestParameters?.secretId
    ?? detail.responseElements?.arn
    ?? detail.responseElements?.aRN
    ?? detail.requestParameters?.name
    ?? detail.additionalEventData?.SecretId;
  if (typeof secretId !== 'string' || secretId === '') {
    throw new Error(`${detail.eventName} event carries no secret id`);
  }
  const time = detail.eventTime ?? event.time;
  return {
    kind: 'change',
    change: {
      eventName: detail.eventName,
      secretId,
      eventTime: time ? new Date(time) : undefined,
      kind: VALUE_EVENT_NAMES.includes(detail.eventName) ? 'value' : 'any',
    },
  };
}
