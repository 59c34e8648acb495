import type { ManualAction } from '../../src/secret-replicator/contract';
import { SECRET_EVENT_NAMES } from '../../src/secret-replicator/contract';

/** A Secrets Manager change delivered by EventBridge from CloudTrail. */
export interface SecretChange {
  readonly eventName: string;
  /** Name or (partial) ARN of the changed secret, as the caller gave it. */
  readonly secretId: string;
  readonly eventTime?: Date;
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
      throw new Error(`unknown action ${JSON.stringify(event.action)}; expected one of ${MANUAL_ACTIONS.join(', ')}`);
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
    return { kind: 'ignored', reason: `event ${detail.eventName} is not a replicated change` };
  }
  if (detail.errorCode) {
    return { kind: 'ignored', reason: `${detail.eventName} failed (${detail.errorCode}); nothing changed` };
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
    change: { eventName: detail.eventName, secretId, eventTime: time ? new Date(time) : undefined },
  };
}
