import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Hand-over of the rest of a run to the next invocation of the same function: a bounded chain of
 * asynchronous invocations (Lambda `Invoke` with InvocationType `Event`), each carrying the cursor
 * of the work left. Lambda queues the invocation, retries it and sends it to the function's
 * dead-letter queue when it cannot be delivered; no state machine or queue of our own is needed.
 *
 * A handler adopts it in four steps:
 *
 * 1. `const continuation = readContinuation<MyCursor>(event)` at the top of the handler: `undefined`
 *    for an ordinary invocation, otherwise the pass this invocation continues.
 * 2. Take or extend the run's lease (`RunLease.acquire(run.runId, ..., run.generation)`) and build a
 *    `RunBudget.fromContext(context)`.
 * 3. Work until `budget.shouldStartMore()` is false, keeping a cursor of the first unit not started.
 * 4. When work is left: `await handOver(invoker, action, next)` with `next = nextHop(run, cursor)`;
 *    report the run as partial (`RunPartial` 1).
 *
 * @example
 * const run = readContinuation<PageCursor>(event) ?? startPass(runId, generation);
 * // ... work the budget ...
 * if (cursor) await handOver(new LambdaSelfInvoker(clients), 'reconcile', nextHop(run, cursor));
 */

/** One pass of a run across its invocations, as a continuation carries it. */
export interface PassState<C> {
  /** Identifies the pass; also the lease owner. */
  readonly runId: string;
  /** Generation of the lease the pass holds. */
  readonly generation: number;
  /** Invocations of this pass before this one (0 for the first). */
  readonly hop: number;
  /** When the pass started (ms since the epoch). */
  readonly passStartedAt: number;
  /** Where the work resumes; `undefined` at the start of the pass. */
  readonly cursor?: C;
}

/** The payload key of a continuation. */
export const CONTINUATION_KEY = 'continuation';

/**
 * Invocations one pass may chain: with a 15-minute timeout that is more than a day of work, far
 * beyond any selection the quotas allow (see README, "Large selections"). A pass that would need
 * more is abandoned; the next scheduled run starts a new pass.
 */
export const MAX_HOPS = 100;

/** Async invocation payloads are limited to 256 KB; a cursor is far smaller. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Starts a pass. */
export function startPass<C>(runId: string, generation: number, now: number = Date.now()): PassState<C> {
  return { runId, generation, hop: 0, passStartedAt: now };
}

/** The state the next invocation of `pass` receives, resuming at `cursor`. */
export function nextHop<C>(pass: PassState<C>, cursor: C, generation: number = pass.generation): PassState<C> {
  return { runId: pass.runId, generation, hop: pass.hop + 1, passStartedAt: pass.passStartedAt, cursor };
}

/**
 * The pass a continuation payload carries, or `undefined` when `event` is not a continuation.
 * Throws naming the field when the payload claims to be one but is malformed.
 */
export function readContinuation<C>(event: unknown): PassState<C> | undefined {
  const payload = event as Record<string, any> | null | undefined;
  const raw = payload?.[CONTINUATION_KEY];
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object') throw new Error(`${CONTINUATION_KEY} must be an object`);
  for (const field of ['generation', 'hop', 'passStartedAt'] as const) {
    if (!Number.isInteger(raw[field]) || raw[field] < 0) throw new Error(`${CONTINUATION_KEY}.${field} must be a non-negative integer`);
  }
  if (typeof raw.runId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(raw.runId)) {
    throw new Error(`${CONTINUATION_KEY}.runId must be 1 to 64 letters, digits or hyphens`);
  }
  return raw as PassState<C>;
}

/** Sends the continuation of a run. */
export interface ContinuationInvoker {
  /** Queues an asynchronous invocation of this function with `payload`. */
  invokeAsync(payload: Record<string, unknown>): Promise<void>;
}

/**
 * Invokes the running function itself (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda) with
 * InvocationType `Event`: Lambda's Invoke API (`POST /2015-03-31/functions/<name>/invocations`,
 * `X-Amz-Invocation-Type: Event`), signed with SigV4 from the function's credentials. The one call
 * is made directly so that the handlers bundle no Lambda SDK client. Honours `AWS_ENDPOINT_URL_LAMBDA`
 * and `AWS_ENDPOINT_URL`. Needs `lambda:InvokeFunction` on the function (the construct grants it).
 */
export class LambdaSelfInvoker implements ContinuationInvoker {
  private readonly signer: SignatureV4;

  constructor(
    region: string = process.env.AWS_REGION ?? '',
    private readonly functionName: string | undefined = process.env.AWS_LAMBDA_FUNCTION_NAME,
    credentials: AwsCredentialIdentityProvider = fromNodeProviderChain(),
    private readonly endpoint: string = process.env.AWS_ENDPOINT_URL_LAMBDA ?? process.env.AWS_ENDPOINT_URL ?? lambdaEndpoint(region),
  ) {
    this.signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Hash.bind(null, 'sha256') });
  }

  async invokeAsync(payload: Record<string, unknown>): Promise<void> {
    if (!this.functionName) throw new Error('AWS_LAMBDA_FUNCTION_NAME is not set: a continuation can only be sent from Lambda');
    const body = JSON.stringify(payload);
    if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) throw new Error(`continuation payload is ${Buffer.byteLength(body)} bytes, more than ${MAX_PAYLOAD_BYTES}`);
    const url = new URL(`/2015-03-31/functions/${encodeURIComponent(this.functionName)}/invocations`, this.endpoint);
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: { 'host': url.host, 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
      body,
    });
    const signed = await this.signer.sign(request);
    const answer = await fetch(url, { method: 'POST', headers: signed.headers, body });
    // 202 Accepted: Lambda queued the invocation.
    if (answer.status !== 202) {
      const error = new Error(`continuation was not queued (HTTP ${answer.status})`);
      error.name = answer.headers.get('x-amzn-errortype')?.split(':')[0] ?? 'ContinuationNotQueued';
      throw error;
    }
  }
}

/** Lambda's regional endpoint, in the partition of `region`. */
export function lambdaEndpoint(region: string): string {
  return `https://lambda.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** Why a hand-over did not happen. */
export class HopLimitReached extends Error {
  constructor(hop: number) {
    super(`the pass reached ${hop} invocations (at most ${MAX_HOPS}); the next scheduled run starts a new pass`);
    this.name = 'HopLimitReached';
  }
}

/**
 * Hands the rest of a pass over: queues `{ action, continuation: next }`. Throws `HopLimitReached`
 * when the pass has used its `MAX_HOPS` invocations (the caller reports it; nothing is queued).
 */
export async function handOver<C>(invoker: ContinuationInvoker, action: string, next: PassState<C>): Promise<void> {
  if (next.hop >= MAX_HOPS) throw new HopLimitReached(next.hop);
  await invoker.invokeAsync({ action, [CONTINUATION_KEY]: next });
}

/**
 * Maps `items` in order through `fn` with at most `limit` in flight, starting an item only while
 * `shouldStart()` is true. Items are started in order, so the started ones are a prefix: returns the
 * settled results of that prefix (its length is where the work resumes).
 */
export async function mapWhile<T, R>(
  items: readonly T[],
  limit: number,
  shouldStart: () => boolean,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = [];
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < items.length) {
      if (!shouldStart()) {
        stopped = true;
        return;
      }
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index], index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results.slice(0, next);
}
