import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AlarmSet } from './alarms';

/**
 * The "no complete pass within the threshold" alarm of a handler whose scheduled runs hand over
 * (README, "Large selections"). Every invocation of a pass emits `RunPartial`: 1 when it handed the
 * rest over, 0 when it completed the pass. The Minimum over one period as long as the threshold is
 * 0 when a pass completed in it, 1 when runs only handed over, and missing when nothing ran: the
 * last two are breaching. Internal.
 */
export function addFullPassAgeAlarm(
  alarms: AlarmSet,
  runPartial: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric,
  threshold: Duration,
  what: string,
  hint: string,
): cloudwatch.Alarm | undefined {
  return alarms.add({
    id: 'FullPassAgeAlarm',
    metric: runPartial({ statistic: cloudwatch.Stats.MINIMUM, period: threshold }),
    threshold: 1, // RunPartial: 0 for an invocation that completed a pass
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    description: `No ${what} has completed for ${threshold.toHumanString()}. RunPartial = 1 without a 0 means runs keep handing over without `
      + 'finishing (OldestUnprocessedItemAge shows for how long); no data means nothing ran: check the schedule rule, the function\'s errors, '
      + `throttles and timeout, and its log group. A new deployment shows this until its first ${what}. ${hint}`,
  });
}
