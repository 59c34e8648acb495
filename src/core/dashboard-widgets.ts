import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { DashboardWidgetOptions } from './dashboard-options';
import { fail, validateIn } from '../private/validation';

/**
 * What every construct's dashboard section is built with: the row layout, the section header, the
 * handler graph and the rules for showing a construct on a dashboard in another stack. Internal;
 * not exported from the package.
 */

/** Width of a CloudWatch dashboard, in grid units. */
export const DASHBOARD_WIDTH = 24;
/** Height of a graph, in grid units (CloudWatch's default). */
const GRAPH_HEIGHT = 6;
/** Height of a section header: its title and a paragraph of two lines; one more per note. */
const HEADER_HEIGHT = 3;
/** Height of a single-value widget: room for a second line of values. */
const SINGLE_VALUE_HEIGHT = 4;
/** Height of an alarm status widget: four lines of alarms. */
const ALARM_STATUS_HEIGHT = 4;
/** CloudWatch's limit of alarms in one alarm status widget. */
const MAX_ALARMS_PER_WIDGET = 100;
/** Metric periods CloudWatch accepts below one minute, in seconds (high-resolution metrics). */
const SUB_MINUTE_PERIODS = [1, 5, 10, 30];

/** A widget laid out by `rows()`: built with its share of the row's width, and the row's height. */
export interface Cell {
  /** Height the widget needs, in grid units; the row takes the tallest. */
  readonly height: number;
  /** Builds the widget. */
  build(width: number, height: number): cloudwatch.IWidget;
}

/** Fails unless `period` is a metric period CloudWatch accepts: 1, 5, 10 or 30 seconds, or whole minutes. */
export function validateMetricPeriod(prop: string, period: Duration | undefined): void {
  if (period === undefined || period.isUnresolved()) {
    return;
  }
  const seconds = period.toSeconds({ integral: false });
  if (!(SUB_MINUTE_PERIODS.includes(seconds) || (seconds > 0 && seconds % 60 === 0))) {
    fail(prop, 'must be 1, 5, 10 or 30 seconds or a whole number of minutes', period);
  }
}

/**
 * The widgets of one construct, for a dashboard in `dashboardScope`'s stack (the construct's own
 * stack when not given).
 *
 * Metrics are attached to the construct's stack, so on a dashboard in another region or account
 * they carry the construct's region and account (aws-cdk-lib renders them only when they differ
 * from the dashboard's). Lambda metrics are keyed by the function name, which aws-cdk-lib can only
 * reference from another environment when the function has an explicit name; alarm status widgets
 * list alarm ARNs, generated names unknown elsewhere. On a dashboard in another environment the
 * handler graph is kept only for a named function, the alarm status is left out, and the section
 * header says what was left out.
 */
export class ConstructWidgets {
  /** True when the dashboard is in the construct's region and account. */
  public readonly sameEnvironment: boolean;
  /** Region of the construct's stack. */
  public readonly region: string;
  private readonly period?: Duration;
  private readonly notes: string[] = [];

  constructor(private readonly construct: IConstruct, options: DashboardWidgetOptions = {}, dashboardScope?: IConstruct) {
    validateIn(construct, () => validateMetricPeriod('period', options.period));
    this.period = options.period;
    const own = Stack.of(construct);
    const shown = dashboardScope ? Stack.of(dashboardScope) : own;
    // Compared the way aws-cdk-lib decides whether a reference crosses environments.
    this.sameEnvironment = own.region === shown.region && own.account === shown.account;
    this.region = own.region;
  }

  /** Options of a metric on a graph: the label, and the period when one was chosen. */
  public options(label: string): cloudwatch.MetricOptions {
    return { label, ...(this.period ? { period: this.period } : {}) };
  }

  /** `metric`, attached to the construct's stack (its region and account). */
  public metric(metric: cloudwatch.Metric): cloudwatch.Metric {
    return metric.attachTo(this.construct);
  }

  /** The section header: a title row naming the construct, what it shows, and what was left out. */
  public header(title: string, description: string): Cell {
    const notes = this.notes.map((n) => `\n\n${n}`).join('');
    return fullRow(new cloudwatch.TextWidget({
      markdown: `### ${title}\n${description}${notes}`,
      width: DASHBOARD_WIDTH,
      height: HEADER_HEIGHT + this.notes.length,
      background: cloudwatch.TextWidgetBackground.TRANSPARENT,
    }));
  }

  /**
   * The graph of the functions' invocations and errors (left, Sum) and duration (right, p99);
   * `undefined` when none can be shown here.
   */
  public handlerGraph(title: string, functions: Array<{ readonly label: string; readonly fn: lambda.IFunction }>): Cell | undefined {
    const shown = functions.filter((f) => this.canReference(f.fn));
    if (shown.length < functions.length) {
      const hidden = functions.filter((f) => !shown.includes(f)).map((f) => f.label).join(', ');
      this.notes.push(`Lambda metrics of the ${hidden} function(s) are left out: they are keyed by the function name, which a dashboard in `
        + `another region or account than ${this.region} cannot reference unless the function has an explicit name. They are on this `
        + 'construct\'s own dashboardWidgets() in its stack.');
    }
    if (shown.length === 0) {
      return undefined;
    }
    const label = (f: { label: string }, what: string) => (functions.length === 1 ? what : `${f.label} ${what}`);
    return {
      height: GRAPH_HEIGHT,
      build: (width, height) => new cloudwatch.GraphWidget({
        title,
        width,
        height,
        left: shown.flatMap((f) => [
          this.metric(f.fn.metricInvocations({ ...this.options(label(f, 'invocations')), statistic: cloudwatch.Stats.SUM })),
          this.metric(f.fn.metricErrors({ ...this.options(label(f, 'errors')), statistic: cloudwatch.Stats.SUM })),
        ]),
        right: shown.map((f) => this.metric(f.fn.metricDuration({ ...this.options(label(f, 'duration p99')), statistic: cloudwatch.Stats.p(99) }))),
        leftYAxis: { label: 'Count', min: 0, showUnits: false },
        rightYAxis: { label: 'Milliseconds', min: 0, showUnits: false },
      }),
    };
  }

  /** The alarm status of `alarms`, or `undefined` when there are none or they cannot be shown here. */
  public alarmStatus(title: string, alarms: cloudwatch.IAlarm[]): Cell | undefined {
    if (alarms.length === 0) {
      return undefined;
    }
    if (!this.sameEnvironment) {
      this.notes.push(`The ${alarms.length} alarm(s) of this construct are in ${this.region}, another region or account than this dashboard: `
        + 'see them in its CloudWatch console, or on its own dashboardWidgets().');
      return undefined;
    }
    return alarmStatus(title, alarms);
  }

  /**
   * True when the function's name can be referenced from the dashboard's stack: it is in the same
   * environment, or it was given an explicit name (aws-cdk-lib then uses the name across environments).
   */
  private canReference(fn: lambda.IFunction): boolean {
    if (this.sameEnvironment) {
      return true;
    }
    const resource = fn.node.defaultChild;
    return resource instanceof lambda.CfnFunction && resource.functionName !== undefined && !Token.isUnresolved(resource.functionName);
  }
}

/** The alarm status of `alarms` (several widgets side by side past CloudWatch's 100 alarms per widget). */
export function alarmStatus(title: string, alarms: cloudwatch.IAlarm[]): Cell {
  return { height: ALARM_STATUS_HEIGHT, build: (width, height) => alarmStatusWidget(title, alarms, width, height) };
}

function alarmStatusWidget(title: string, alarms: cloudwatch.IAlarm[], width: number, height: number): cloudwatch.IWidget {
  const chunks: cloudwatch.IAlarm[][] = [];
  for (let i = 0; i < alarms.length; i += MAX_ALARMS_PER_WIDGET) {
    chunks.push(alarms.slice(i, i + MAX_ALARMS_PER_WIDGET));
  }
  const widths = splitWidth(width, chunks.length);
  const widgets = chunks.map((chunk, i) => new cloudwatch.AlarmStatusWidget({
    title,
    alarms: chunk,
    width: widths[i],
    height,
    sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
  }));
  return widgets.length === 1 ? widgets[0] : new cloudwatch.Row(...widgets);
}

/**
 * Lays out rows of cells, each row `DASHBOARD_WIDTH` wide and as tall as its tallest cell: the
 * cells of a row share the width (the last ones take the remainder). Absent cells are skipped;
 * empty rows are dropped.
 */
export function rows(...layout: Array<Array<Cell | undefined>>): cloudwatch.IWidget[] {
  return layout
    .map((row) => row.filter((cell): cell is Cell => cell !== undefined))
    .filter((row) => row.length > 0)
    .map((row) => {
      const widths = splitWidth(DASHBOARD_WIDTH, row.length);
      const height = Math.max(...row.map((cell) => cell.height));
      return new cloudwatch.Row(...row.map((cell, i) => cell.build(widths[i], height)));
    });
}

/** A cell of a widget that is a whole row, such as a text header. */
export function fullRow(widget: cloudwatch.IWidget): Cell {
  return { height: widget.height, build: () => widget };
}

/** `total` split into `parts` whole widths, the last ones one wider when it does not divide. */
function splitWidth(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const wider = total - base * parts;
  return Array.from({ length: parts }, (_, i) => base + (i >= parts - wider ? 1 : 0));
}

/** A graph of `metrics` on the left axis (counts from 0). */
export function graph(title: string, metrics: cloudwatch.IMetric[], axisLabel: string = 'Count'): Cell | undefined {
  if (metrics.length === 0) {
    return undefined;
  }
  return {
    height: GRAPH_HEIGHT,
    build: (width, height) => new cloudwatch.GraphWidget({
      title,
      width,
      height,
      left: metrics,
      leftYAxis: { label: axisLabel, min: 0, showUnits: false },
    }),
  };
}

/**
 * Single values of `metrics`: over the dashboard's whole time range when `timeRange` is set (totals
 * and "any drift"), otherwise the latest period.
 */
export function singleValues(title: string, metrics: cloudwatch.IMetric[], timeRange: boolean): Cell | undefined {
  if (metrics.length === 0) {
    return undefined;
  }
  return {
    height: SINGLE_VALUE_HEIGHT,
    build: (width, height) => new cloudwatch.SingleValueWidget({
      title,
      width,
      height,
      metrics,
      setPeriodToTimeRange: timeRange || undefined,
    }),
  };
}

/** `items` as an English list: `a`, `a and b`, `a, b and c`. */
export function listOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
