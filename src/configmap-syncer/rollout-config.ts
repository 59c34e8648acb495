import { Duration, Token } from 'aws-cdk-lib';
import type { RolloutConfig, WorkloadSelectorConfig } from './contract';
import type { ConfigMapRolloutOptions, WorkloadSelection } from './rollout-options';
import { fail, validateDistinct, validateWholeDuration } from '../private/validation';

/**
 * Validation of the rollout props and their rendering for the handler. Internal; not exported
 * from the package.
 */

/** The rollout settings of the handler, validated; `timeout` is the handler's. */
export function rolloutConfig(options: ConfigMapRolloutOptions, timeout: Duration): RolloutConfig {
  const pause = validateWholeDuration('rollout.pause', options.pause ?? Duration.seconds(30), 'seconds', 0, 3_600) ?? 30;
  const rolloutTimeout = validateWholeDuration('rollout.rolloutTimeout', options.rolloutTimeout ?? Duration.minutes(10), 'seconds', 30, 86_400) ?? 600;
  const waveWait = options.waveWait && validateWholeDuration('rollout.waveWait', options.waveWait, 'seconds', 0, 86_400);
  if (waveWait !== undefined && waveWait > rolloutTimeout) {
    fail('rollout.waveWait', `must not be longer than rollout.rolloutTimeout (${rolloutTimeout} seconds): a rollout fails before the wait ends`, options.waveWait);
  }
  const timeoutSeconds = timeout.isUnresolved() ? 300 : timeout.toSeconds();
  const maxPoll = timeoutSeconds - 30;
  const poll = options.maxPollTime
    ? validateWholeDuration('rollout.maxPollTime', options.maxPollTime, 'seconds', 0, Math.max(0, maxPoll))
    : Math.max(0, timeoutSeconds - 60);
  return {
    waves: options.regionByRegion ? 'region-by-region' : 'primary-first',
    pauseSeconds: pause,
    rolloutTimeoutSeconds: rolloutTimeout,
    pollSeconds: poll ?? Math.max(0, timeoutSeconds - 60),
    ...(waveWait !== undefined ? { waveWaitSeconds: waveWait } : {}),
  };
}

/** Validates a target's workloads; `prop` is `targets[i]`. */
export function bindWorkloads(prop: string, workloads: WorkloadSelection[] | undefined, configMapName: string): WorkloadSelectorConfig[] | undefined {
  if (workloads === undefined) return undefined;
  if (workloads.length === 0) fail(`${prop}.workloads`, 'must not be empty (omit it to roll no workload)', workloads);
  if (!Token.isUnresolved(configMapName) && configMapName.length > 63) {
    fail(`${prop}.configMapName`, 'must be at most 63 characters when the target names workloads (it is the name part of the rollout '
      + 'annotation keys)', configMapName);
  }
  const bound = workloads.map((w, j) => w._bind(`${prop}.workloads[${j}]`));
  validateDistinct(`${prop}.workloads`, bound.map((w) => `${w.kind} ${w.name ?? `-l ${w.labelSelector}`}`));
  return bound;
}
