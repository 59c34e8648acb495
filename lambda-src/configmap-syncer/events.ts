import { SyncError } from './errors';
import type { SyncAction } from '../../src/configmap-syncer/contract';
import { SECRET_EVENT_NAMES } from '../shared/secrets/contract';

/** What an invocation asks for. */
export type Invocation =
  | {
    readonly kind: 'sync';
    readonly action: SyncAction;
    /** What started it: the action, `Parameter Store Change` or the Secrets Manager event name. */
    readonly trigger: string;
    /** A change event fails the invocation on any target failure, so Lambda retries it and then dead-letters it. */
    readonly failOnError: boolean;
  }
  | { readonly kind: 'ignored'; readonly trigger: string; readonly reason: string };

/** The sources an event must concern to start a sync. */
export interface SourceIdentity {
  readonly parameterPath?: string;
  readonly secretArn?: string;
}

const ACTIONS: readonly SyncAction[] = ['sync', 'test_sync'];
const SECRET_DETAIL_TYPES = ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'];

/**
 * Classifies an invocation: `{"action":"sync"}` (the schedule's, or manual), `{"action":"test_sync"}`
 * (a dry run), a "Parameter Store Change" of a parameter below the path, or a Secrets Manager
 * CloudTrail event of the source secret; each starts a sync of every target. A change event of
 * another parameter or secret, or of a failed API call, is ignored. Anything else throws a
 * value-free error (the payload is never echoed).
 *
 * @example
 * parseInvocation({ action: 'test_sync' }, { parameterPath: '/app/prod/config' });
 * // { kind: 'sync', action: 'test_sync', trigger: 'test_sync', failOnError: false }
 */
export function parseInvocation(payload: unknown, source: SourceIdentity): Invocation {
  const event = (payload ?? {}) as Record<string, any>;
  if (typeof event.action === 'string') {
    if (!(ACTIONS as readonly string[]).includes(event.action)) {
      // Echo the action only when it looks like an action name, never arbitrary text.
      const shown = /^[A-Za-z0-9_-]{1,64}$/.test(event.action) ? ` ${JSON.stringify(event.action)}` : '';
      throw new SyncError('UnsupportedInvocation', `unknown action${shown}; expected one of ${ACTIONS.join(', ')}`);
    }
    const action = event.action as SyncAction;
    return { kind: 'sync', action, trigger: action, failOnError: false };
  }
  const detailType = event['detail-type'];
  if (detailType === 'Scheduled Event') return { kind: 'sync', action: 'sync', trigger: 'schedule', failOnError: false };
  if (event.source === 'aws.ssm' && detailType === 'Parameter Store Change') return parameterChange(event, source);
  if (event.source === 'aws.secretsmanager' && SECRET_DETAIL_TYPES.includes(detailType)) return secretChange(event, source);
  throw new SyncError('UnsupportedInvocation', 'unsupported invocation: expected {"action": "sync"} or {"action": "test_sync"}, a "Parameter Store Change" event '
    + 'or a Secrets Manager CloudTrail event');
}

function parameterChange(event: Record<string, any>, source: SourceIdentity): Invocation {
  const trigger = 'Parameter Store Change';
  const name = event.detail?.name;
  if (typeof name !== 'string' || name === '') throw new SyncError('UnsupportedInvocation', `${trigger} event carries no parameter name`);
  if (source.parameterPath === undefined) return { kind: 'ignored', trigger, reason: 'no parameter path is a source' };
  if (!isAtOrBelow(name, source.parameterPath)) return { kind: 'ignored', trigger, reason: 'the parameter is not below the source path' };
  return { kind: 'sync', action: 'sync', trigger, failOnError: true };
}

function secretChange(event: Record<string, any>, source: SourceIdentity): Invocation {
  const detail = event.detail as Record<string, any> | undefined;
  const eventName = detail?.eventName;
  if (typeof eventName !== 'string' || eventName === '') throw new SyncError('UnsupportedInvocation', 'Secrets Manager event carries no eventName');
  if (!(SECRET_EVENT_NAMES as readonly string[]).includes(eventName)) {
    return { kind: 'ignored', trigger: eventName, reason: 'the event does not change a secret' };
  }
  if (detail!.errorCode) return { kind: 'ignored', trigger: eventName, reason: `the call failed (${String(detail!.errorCode).slice(0, 64)}); nothing changed` };
  if (source.secretArn === undefined) return { kind: 'ignored', trigger: eventName, reason: 'no secret is a source' };
  const ids = [
    detail!.requestParameters?.secretId,
    detail!.requestParameters?.name,
    detail!.additionalEventData?.SecretId,
    detail!.responseElements?.arn,
    detail!.responseElements?.aRN,
  ].filter((id): id is string => typeof id === 'string' && id !== '');
  if (ids.length === 0) throw new SyncError('UnsupportedInvocation', `${eventName} event carries no secret id`);
  if (!ids.some((id) => isSameSecret(id, source.secretArn!))) {
    return { kind: 'ignored', trigger: eventName, reason: 'the event concerns another secret' };
  }
  return { kind: 'sync', action: 'sync', trigger: eventName, failOnError: true };
}

/** True when the parameter `name` is `path` or below it. */
export function isAtOrBelow(name: string, path: string): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return name === path || name.startsWith(prefix);
}

/**
 * True when a secret id from an event (name, partial ARN or complete ARN) may name the secret
 * `arn` (complete or partial ARN). Generous on purpose: a false match only costs a sync.
 */
export function isSameSecret(id: string, arn: string): boolean {
  const forms = (value: string): string[] => {
    const name = /:secret:(.+)$/.exec(value)?.[1];
    return [value, ...(name ? [name] : [])].flatMap((v) => [v, v.replace(/-[A-Za-z0-9]{6}$/, '')]);
  };
  const wanted = new Set(forms(arn));
  return forms(id).some((f) => wanted.has(f));
}
