import { PARAMETER_STORE_THROUGHPUT_ENV } from '../../src/core/run-contract';

/**
 * Pacing of AWS calls to the documented per-region request quotas, shared by every call a handler
 * makes in one execution environment (all the concurrent units of a run go through one pacer), and
 * slowed down when the service throttles anyway (other callers share the quota).
 *
 * Each paced operation belongs to a quota group (the operations AWS counts together) in one region.
 * Calls of a group are spaced evenly at `share` of the quota; a throttled call halves the group's
 * rate (down to 1/16) and each successful call wins back 1/20 of it (additive increase,
 * multiplicative decrease), so a group settles just under what the region actually allows.
 *
 * @example
 * const pacer = new Pacer(); // the quotas of PARAMETER_STORE_THROUGHPUT
 * const clients = new ClientCache(region, undefined, pacer); // every client it creates is paced
 */

/** One documented quota: the operations it counts together and its rate. */
export interface QuotaGroup {
  /** Name used in logs and metrics, e.g. `secretsmanager:write`. */
  readonly name: string;
  /** Signing name of the service, e.g. `secretsmanager`. */
  readonly service: string;
  /** Operations counted together, e.g. `PutSecretValue`. */
  readonly operations: readonly string[];
  /** Requests per second per region. */
  readonly perSecond: number;
}

/**
 * The documented default request quotas per region that a reconciliation or scan spends
 * (Secrets Manager: "AWS Secrets Manager quotas"; Systems Manager: "Parameter Store throughput",
 * standard throughput). None of the Secrets Manager ones is adjustable; Parameter Store's higher
 * throughput setting raises the reads (`HIGHER_THROUGHPUT_QUOTAS`), which the construct's
 * `parameterStoreThroughput` tells the handler.
 */
export const DOCUMENTED_QUOTAS: readonly QuotaGroup[] = [
  { name: 'secretsmanager:CreateSecret', service: 'secretsmanager', operations: ['CreateSecret'], perSecond: 50 },
  {
    name: 'secretsmanager:write',
    service: 'secretsmanager',
    operations: ['PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage'],
    perSecond: 50,
  },
  { name: 'secretsmanager:tag', service: 'secretsmanager', operations: ['TagResource', 'UntagResource'], perSecond: 50 },
  { name: 'secretsmanager:DeleteSecret', service: 'secretsmanager', operations: ['DeleteSecret'], perSecond: 50 },
  { name: 'secretsmanager:RestoreSecret', service: 'secretsmanager', operations: ['RestoreSecret'], perSecond: 50 },
  { name: 'secretsmanager:BatchGetSecretValue', service: 'secretsmanager', operations: ['BatchGetSecretValue'], perSecond: 100 },
  { name: 'secretsmanager:ListSecrets', service: 'secretsmanager', operations: ['ListSecrets'], perSecond: 100 },
  // Parameter Store's standard throughput counts its reads together ("Max throughput").
  { name: 'ssm:read', service: 'ssm', operations: ['GetParameter', 'GetParameters', 'GetParametersByPath'], perSecond: 40 },
];

/**
 * The quotas with Parameter Store's higher throughput turned on: `GetParametersByPath` and the
 * reads by name are counted apart, at 100 and 3,000 a second.
 */
export const HIGHER_THROUGHPUT_QUOTAS: readonly QuotaGroup[] = [
  ...DOCUMENTED_QUOTAS.filter((q) => q.service !== 'ssm'),
  { name: 'ssm:GetParametersByPath', service: 'ssm', operations: ['GetParametersByPath'], perSecond: 100 },
  { name: 'ssm:GetParameters', service: 'ssm', operations: ['GetParameter', 'GetParameters'], perSecond: 3000 },
];

/** The quotas of the environment: `HIGHER_THROUGHPUT_QUOTAS` when the construct says Parameter Store has it. */
export function quotasOf(env: NodeJS.ProcessEnv = process.env): readonly QuotaGroup[] {
  return env[PARAMETER_STORE_THROUGHPUT_ENV] === 'higher' ? HIGHER_THROUGHPUT_QUOTAS : DOCUMENTED_QUOTAS;
}

/** Share of a quota one handler uses by default: the rest is left to change events and other callers. */
export const DEFAULT_QUOTA_SHARE = 0.8;
/** A throttled group never slows below this fraction of its paced rate. */
const MIN_RATE_FACTOR = 1 / 16;
/** Fraction of the paced rate a successful call wins back after a throttle. */
const RATE_RECOVERY_STEP = 0.05;

/** Options of a `Pacer`. */
export interface PacerOptions {
  /** Fraction (0..1] of each quota to use. @default DEFAULT_QUOTA_SHARE */
  readonly share?: number;
  /** The quotas. @default quotasOf(process.env) */
  readonly quotas?: readonly QuotaGroup[];
  /** Clock in ms; injectable for tests. @default Date.now */
  readonly now?: () => number;
  /** Sleep; injectable for tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The state of one (group, region). */
interface Lane {
  readonly group: QuotaGroup;
  /** Earliest time the next call may be sent (ms). */
  next: number;
  factor: number;
  calls: number;
  throttles: number;
}

/** Calls and throttles per quota group and region, for metrics and benchmarks. */
export interface PacerStats {
  readonly group: string;
  readonly region: string;
  readonly calls: number;
  readonly throttles: number;
  /** Current rate (requests per second) after throttling adjustments. */
  readonly perSecond: number;
}

/** Spaces calls per (quota group, region); see the module comment. */
export class Pacer {
  private readonly share: number;
  private readonly byOperation = new Map<string, QuotaGroup>();
  private readonly lanes = new Map<string, Lane>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: PacerOptions = {}) {
    this.share = options.share ?? DEFAULT_QUOTA_SHARE;
    if (!(this.share > 0 && this.share <= 1)) throw new Error(`pacer share must be in (0, 1], but got ${this.share}`);
    for (const group of options.quotas ?? quotasOf()) {
      for (const op of group.operations) this.byOperation.set(`${group.service}:${op}`, group);
    }
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private lane(service: string, region: string, operation: string): Lane | undefined {
    const group = this.byOperation.get(`${service}:${operation}`);
    if (!group) return undefined;
    const key = `${group.name}|${region}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { group, next: 0, factor: 1, calls: 0, throttles: 0 };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Waits until a call of `operation` may be sent to `region`; returns at once for an unpaced operation. */
  async acquire(service: string, region: string, operation: string): Promise<void> {
    const lane = this.lane(service, region, operation);
    if (!lane) return;
    const intervalMs = 1000 / (lane.group.perSecond * this.share * lane.factor);
    const now = this.now();
    const slot = Math.max(now, lane.next);
    lane.next = slot + intervalMs;
    lane.calls++;
    if (slot > now) await this.sleep(slot - now);
  }

  /** Records the answer to a paced call: a throttle halves the group's rate, a success wins some back. */
  record(service: string, region: string, operation: string, throttled: boolean): void {
    const lane = this.lane(service, region, operation);
    if (!lane) return;
    if (throttled) {
      lane.throttles++;
      lane.factor = Math.max(MIN_RATE_FACTOR, lane.factor / 2);
    } else {
      lane.factor = Math.min(1, lane.factor + RATE_RECOVERY_STEP);
    }
  }

  /** Calls and throttles so far, per group and region. */
  stats(): PacerStats[] {
    return [...this.lanes.entries()].map(([key, lane]) => ({
      group: lane.group.name,
      region: key.slice(key.indexOf('|') + 1),
      calls: lane.calls,
      throttles: lane.throttles,
      perSecond: lane.group.perSecond * this.share * lane.factor,
    }));
  }
}

/** Error names AWS answers a throttled request with. */
const THROTTLING_ERRORS = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'ThrottledException']);

/** The part of an SDK v3 client the pacing middleware needs. */
export interface MiddlewareClient {
  readonly middlewareStack: {
    addRelativeTo(middleware: any, options: { relation: 'before' | 'after'; toMiddleware: string; name?: string; override?: boolean }): void;
  };
}

/**
 * Paces every attempt (retries included) `client` sends to `region` through `pacer`. The middleware
 * sits after the SDK's retry middleware, so each retried attempt waits for its own slot and a
 * throttled attempt slows the group down before the retry is sent.
 */
export function paceClient(client: MiddlewareClient, pacer: Pacer, service: string, region: string): void {
  client.middlewareStack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      await pacer.acquire(service, region, operation);
      try {
        const out = await next(args);
        pacer.record(service, region, operation, false);
        return out;
      } catch (e) {
        pacer.record(service, region, operation, THROTTLING_ERRORS.has((e as Error).name));
        throw e;
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'crossRegionConfigPacing', override: true },
  );
}
