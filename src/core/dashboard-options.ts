import { Duration } from 'aws-cdk-lib';

/**
 * Options of the `dashboardWidgets()` method of every construct in this library.
 *
 * The widgets come as rows 24 grid units wide; add them to a dashboard in one call,
 * `dashboard.addWidgets(...construct.dashboardWidgets())`, or one row per call.
 */
export interface DashboardWidgetOptions {
  /**
   * Period of every metric on the graphs and single values: 1, 5, 10 or 30 seconds, or a whole
   * number of minutes. Single values of the totals "in the time range" always use the dashboard's
   * time range.
   *
   * @default - each metric's own period: 5 minutes, and 1 hour (the default scan interval) for the drift detector's scan metrics
   */
  readonly period?: Duration;
}
