import { Duration, Token } from 'aws-cdk-lib';
import type { WorkloadSelectorConfig } from './contract';
import { fail, validateLength, validatePattern } from '../private/validation';

/** Kinds of workloads the ConfigMap syncer can roll. */
export enum WorkloadKind {
  /** `apps/v1` Deployment: complete when every replica is updated and available. */
  DEPLOYMENT = 'Deployment',
  /** `apps/v1` StatefulSet (RollingUpdate strategy): complete when every replica is updated and available and its revisions agree. */
  STATEFUL_SET = 'StatefulSet',
  /** `apps/v1` DaemonSet: complete when every scheduled pod is updated and available. */
  DAEMON_SET = 'DaemonSet',
}

const NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** Label selector syntax: keys, values, `=`, `==`, `!=`, `in (...)`, `notin (...)`, `!key`, separated by commas. */
const SELECTOR_PATTERN = /^[A-Za-z0-9_.\-/=!,() ]+$/;

/**
 * Workloads, in the namespace of a `ConfigMapSyncTarget`, whose pods read its ConfigMap: the syncer
 * rolls them when the ConfigMap's data changes.
 *
 * @example
 * WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web');
 * WorkloadSelection.byLabels(WorkloadKind.DEPLOYMENT, 'app.kubernetes.io/part-of=shop');
 */
export class WorkloadSelection {
  /** One workload by name. The handler may `get` and `patch` only the workloads named so (see README, "Rolling workloads"). */
  public static named(kind: WorkloadKind, name: string): WorkloadSelection {
    return new WorkloadSelection(kind, name, undefined);
  }

  /**
   * Every workload of `kind` whose labels match `labelSelector` (such as `app=web` or
   * `tier in (front,back)`). Their names are only known when the handler lists them, so it needs
   * `list` and `patch` on every workload of that kind in the namespace.
   */
  public static byLabels(kind: WorkloadKind, labelSelector: string): WorkloadSelection {
    return new WorkloadSelection(kind, undefined, labelSelector);
  }

  private constructor(
    /** The kind of the workloads. */
    public readonly kind: WorkloadKind,
    /** The name, for `named()`. */
    public readonly name: string | undefined,
    /** The label selector, for `byLabels()`. */
    public readonly labelSelector: string | undefined,
  ) {}

  /** @internal Validates and renders for the handler; `prop` names this selection in messages. */
  public _bind(prop: string): WorkloadSelectorConfig {
    if (!Object.values(WorkloadKind).includes(this.kind)) {
      fail(`${prop}.kind`, `must be one of ${Object.values(WorkloadKind).join(', ')}`, this.kind);
    }
    if (this.name !== undefined) {
      validateLength(`${prop}.name`, this.name, 1, 253);
      validatePattern(`${prop}.name`, this.name, NAME_PATTERN,
        'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit');
      return { kind: this.kind, name: this.name };
    }
    const selector = this.labelSelector ?? '';
    if (!Token.isUnresolved(selector) && selector.trim() === '') {
      fail(`${prop}.labelSelector`, 'must not be empty (it would select every workload of the kind)', selector);
    }
    validatePattern(`${prop}.labelSelector`, selector, SELECTOR_PATTERN,
      'must be a Kubernetes label selector such as "app=web" or "tier in (front,back)"');
    return { kind: this.kind, labelSelector: selector };
  }
}

/**
 * How the ConfigMap syncer rolls the workloads of its targets (`ConfigMapSyncTarget.workloads`)
 * when their ConfigMap's data changes.
 */
export interface ConfigMapRolloutOptions {
  /**
   * After the clusters of the primary region, roll one region at a time (in the order the targets
   * name them) instead of every other region at once.
   *
   * @default false
   */
  readonly regionByRegion?: boolean;

  /**
   * How long the data must stay unchanged before its rollout starts: changes within this period
   * make one rollout of the last data.
   *
   * @default Duration.seconds(30)
   */
  readonly pause?: Duration;

  /**
   * How long a workload's rollout may take. One not complete by then has failed: it is logged,
   * counted in `RolloutsFailed` and alarmed, and later waves do not start until the data changes
   * again (their pods are kept).
   *
   * @default Duration.minutes(10)
   */
  readonly rolloutTimeout?: Duration;

  /**
   * Start the next wave this long after the previous one started, even if its rollouts are not
   * complete yet (a failed one still stops the waves).
   *
   * @default - the next wave starts only when every rollout of the previous one is complete
   */
  readonly waveWait?: Duration;

  /**
   * How long one invocation keeps watching rollouts and starting waves before it returns; a later
   * invocation (the schedule's at the latest) carries on from the state kept on the workloads.
   *
   * @default - the handler's timeout less one minute
   */
  readonly maxPollTime?: Duration;
}
