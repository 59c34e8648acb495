import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ConfigDriftDetector, ConfigMapSyncer, ConflictPolicy, CrossRegionConfigDashboard, CrossRegionConfigDashboardProps, CrossRegionSecretReplicator,
  DeploymentStrategy, KubernetesCluster, MultiRegionPipeline, SecretSelection,
} from '../../src';
import { SyncMetric } from '../../src/configmap-syncer/contract';
import { syncerDashboardWidgets } from '../../src/configmap-syncer/dashboard';
import { RunMetric } from '../../src/core/run-contract';
import { DriftMetric } from '../../src/drift-detector/contract';
import { driftDetectorDashboardWidgets } from '../../src/drift-detector/dashboard';
import { PipelineMetric } from '../../src/multi-region-pipeline/contract';
import { pipelineDashboardWidgets } from '../../src/multi-region-pipeline/dashboard';
import { ReplicatorMetric } from '../../src/secret-replicator/contract';
import { replicatorDashboardWidgets } from '../../src/secret-replicator/dashboard';
import { ACCOUNT, blueGreenProps, minimalProps, PRIMARY } from '../multi-region-pipeline/util';

const REPLICA_REGIONS = ['eu-west-1', 'ap-southeast-1'];
const REMOTE = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });

/** One metric of a dashboard widget, as CloudWatch reads it. */
interface DashboardMetric {
  readonly widget: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly options: Record<string, any>;
}

/**
 * The dashboard's body as CloudWatch receives it. CloudFormation values (`Ref`, `Fn::GetAtt`,
 * imports) become `<...>` placeholders: `<Ref:Logical>`, `<GetAtt:Logical.Arn>`.
 */
function dashboardBody(stack: Stack, dashboard: cloudwatch.Dashboard | CrossRegionConfigDashboard): any {
  const dashboards = Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard');
  const resource = dashboard instanceof CrossRegionConfigDashboard ? dashboard.dashboard : dashboard;
  const id = stack.getLogicalId(resource.node.defaultChild as cloudwatch.CfnDashboard);
  const body = dashboards[id].Properties.DashboardBody;
  const placeholder = (value: any): string => {
    if (value.Ref) return `<Ref:${value.Ref}>`;
    if (value['Fn::GetAtt']) return `<GetAtt:${value['Fn::GetAtt'].join('.')}>`;
    return `<${JSON.stringify(value).replace(/"/g, '\'')}>`;
  };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : placeholder(p))).join('');
  return JSON.parse(text);
}

/** Every metric of every widget of the body. */
function metricsOf(body: any): DashboardMetric[] {
  return body.widgets.flatMap((w: any) => (w.properties.metrics ?? []).map((entry: any[]) => {
    const options = typeof entry[entry.length - 1] === 'object' ? entry[entry.length - 1] : {};
    const [namespace, metricName, ...rest] = typeof entry[entry.length - 1] === 'object' ? entry.slice(0, -1) : entry;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
    return { widget: w.properties.title, namespace, metricName, dimensions, options };
  }));
}

/** The widgets of a type. */
function widgetsOf(body: any, type: string): any[] {
  return body.widgets.filter((w: any) => w.type === type);
}

/** Every text on the dashboard, joined. */
function textOf(body: any): string {
  return widgetsOf(body, 'text').map((w) => w.properties.markdown).join('\n');
}

/** A stack of `ACCOUNT` in `region` (the pipeline needs an explicit account). */
function envStack(app: App, id: string, region: string = PRIMARY): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region } });
}

/** All four constructs in one stack. */
function constructs(stack: Stack, options: { blueGreen?: boolean } = {}) {
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
    secrets: SecretSelection.fromNames('app/db'),
    replicaRegions: REPLICA_REGIONS,
    conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
  });
  const driftDetector = new ConfigDriftDetector(stack, 'DriftDetector', { replicator, parameterPaths: ['/app/prod'] });
  const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'app-us',
    clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'Y2E=',
  });
  const configMapSyncer = new ConfigMapSyncer(stack, 'Syncer', {
    parameterPath: '/app/prod/config',
    configMapName: 'app-config',
    targets: [{ cluster: REMOTE }, { cluster: KubernetesCluster.fromCluster(local) }],
  });
  const pipeline = new MultiRegionPipeline(stack, 'Pipeline', options.blueGreen ? blueGreenProps(stack) : minimalProps());
  return { replicator, driftDetector, configMapSyncer, pipeline };
}

/** A dashboard of all four constructs, in their stack. */
function synth(options: { blueGreen?: boolean; props?: Partial<CrossRegionConfigDashboardProps> } = {}) {
  const app = new App();
  const stack = envStack(app, 'Stack');
  const all = constructs(stack, options);
  const dashboard = new CrossRegionConfigDashboard(stack, 'Dashboard', { ...all, ...options.props });
  const template = Template.fromStack(stack);
  const body = dashboardBody(stack, dashboard);
  return { app, stack, dashboard, template, body, metrics: metricsOf(body), ...all };
}

/** The `service` dimension values of the constructs, with their namespaces and metric names. */
function emitters(all: ReturnType<typeof constructs>) {
  return [
    { service: all.replicator.serviceName, namespace: all.replicator.metricNamespace, names: Object.values(ReplicatorMetric), split: 'ReplicaRegion' },
    { service: all.driftDetector.serviceName, namespace: all.driftDetector.metricNamespace, names: Object.values(DriftMetric), split: 'ReplicaRegion|ResourceType' },
    { service: all.configMapSyncer.serviceName, namespace: all.configMapSyncer.metricNamespace, names: [...Object.values(SyncMetric), ...Object.values(RunMetric)], split: 'Cluster' },
    { service: all.pipeline.serviceName, namespace: all.pipeline.metricNamespace, names: Object.values(PipelineMetric), split: 'Region' },
  ];
}

/** Regions (dimension values) of a metric's lines on the dashboard. */
function splitValues(metrics: DashboardMetric[], metricName: string, dimension: string, service?: string): string[] {
  return metrics
    .filter((m) => m.metricName === metricName && m.dimensions[dimension] !== undefined)
    .filter((m) => service === undefined || m.dimensions.service === service)
    .map((m) => m.dimensions[dimension]);
}

describe('a dashboard of all four constructs', () => {
  const { stack, template, body, metrics, dashboard, ...all } = synth({ blueGreen: true });

  test('creates one CloudWatch dashboard, named by CloudFormation', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: Match.absent() });
    expect(dashboard.dashboard).toBeInstanceOf(cloudwatch.Dashboard);
  });

  test('every custom metric on the dashboard is one a construct emits: its namespace, service, metric name and split dimension', () => {
    const custom = metrics.filter((m) => m.namespace !== 'AWS/Lambda');
    expect(custom.length).toBeGreaterThan(50);
    for (const metric of custom) {
      const emitter = emitters(all).find((e) => e.service === metric.dimensions.service);
      expect(emitter).toBeDefined();
      expect(metric.namespace).toBe(emitter!.namespace);
      expect(emitter!.names).toContain(metric.metricName);
      const extra = Object.keys(metric.dimensions).filter((d) => d !== 'service');
      expect(extra.length).toBeLessThanOrEqual(1);
      extra.forEach((d) => expect(d).toMatch(new RegExp(`^(${emitter!.split})$`)));
    }
  });

  test('shows the total of every metric a construct alarms on, with the alarm\'s namespace and dimensions', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties)
      .filter((p) => p.Namespace !== 'AWS/Lambda' && p.Namespace !== 'AWS/SQS');
    expect(alarms.map((a) => a.MetricName)).toEqual(expect.arrayContaining([
      'DriftCount', 'ScanFailures', 'ReplicationFailures', 'Conflicts', 'SyncFailure', 'PipelineExecutionFailed', 'RollbackPerformed',
      'HealthCheckFailed', 'TrafficSwitchFailed', 'RollbackFailed',
    ]));
    for (const alarm of alarms) {
      const dimensions = Object.fromEntries(alarm.Dimensions.map((d: any) => [d.Name, d.Value]));
      const lines = metrics.filter((m) => m.metricName === alarm.MetricName && m.namespace === alarm.Namespace);
      // The alarm's total, or at least one per-region line of the same metric (which only adds the split dimension).
      expect(lines.some((m) => JSON.stringify(m.dimensions) === JSON.stringify(dimensions)
        || Object.entries(dimensions).every(([k, v]) => m.dimensions[k] === v))).toBe(true);
    }
    // The drift alarm's metric as a total (overview) and per replica region (section).
    const driftAlarm = alarms.find((a) => a.MetricName === 'DriftCount');
    expect(driftAlarm.Namespace).toBe('CrossRegionConfig/ConfigurationDrift');
    expect(splitValues(metrics, 'DriftCount', 'ReplicaRegion')).toEqual(REPLICA_REGIONS);
  });

  test('shows a line per replica region for every replicator metric', () => {
    for (const name of Object.values(ReplicatorMetric)) {
      expect(splitValues(metrics, name, 'ReplicaRegion', all.replicator.serviceName)).toEqual(expect.arrayContaining(REPLICA_REGIONS));
    }
    const latency = metrics.find((m) => m.metricName === 'ReplicationLatency' && m.dimensions.ReplicaRegion === 'eu-west-1');
    expect(latency!.options).toMatchObject({ stat: 'p99', label: 'eu-west-1' });
  });

  test('shows drift status and drift count per replica region and per resource type', () => {
    expect(splitValues(metrics, 'HasDrift', 'ReplicaRegion')).toEqual(expect.arrayContaining(REPLICA_REGIONS));
    expect(splitValues(metrics, 'DriftCount', 'ResourceType')).toEqual(['secret', 'parameter']);
    for (const name of ['ItemsCompared', 'DeferredItems', 'ScanFailures', 'RemediatedItems', 'RemediationFailures']) {
      expect(metrics.some((m) => m.metricName === name && m.dimensions.service === all.driftDetector.serviceName)).toBe(true);
    }
    // The detector's own period: one hour, its default scan interval.
    expect(metrics.find((m) => m.metricName === 'DriftCount' && m.dimensions.ResourceType === 'secret')!.options).toMatchObject({ period: 3600, stat: 'Maximum' });
  });

  test('shows the ConfigMap sync status, syncs, failures and refused keys of every target cluster', () => {
    const clusters = ['eu-west-1/app-eu', 'us-east-1/app-us'];
    for (const name of Object.values(SyncMetric)) {
      expect(new Set(splitValues(metrics, name, 'Cluster'))).toEqual(new Set(clusters));
    }
    const status = body.widgets.find((w: any) => w.properties.title === 'Sync status in the time range, by cluster');
    expect(status.properties).toMatchObject({ view: 'singleValue', setPeriodToTimeRange: true });
    expect(status.properties.metrics).toHaveLength(4);
  });

  test('shows the pipeline\'s health checks, latency and traffic switches per deployment region, and rollbacks per regional stage', () => {
    for (const name of ['HealthCheckPassed', 'HealthCheckFailed', 'HealthCheckLatency', 'TrafficSwitched', 'TrafficSwitchFailed', 'RollbackPerformed', 'RollbackFailed']) {
      expect(splitValues(metrics, name, 'Region')).toEqual(expect.arrayContaining(all.pipeline.regions));
    }
    expect(metrics.some((m) => m.metricName === 'PipelineExecutionFailed')).toBe(true);
  });

  test('shows the invocations, errors and duration of every handler', () => {
    const functions = [all.replicator.handler, all.driftDetector.handler, all.configMapSyncer.handler,
      all.pipeline.watcherFunction, all.pipeline.healthCheckFunction!, all.pipeline.trafficSwitchFunction!];
    for (const fn of functions) {
      const ref = `<Ref:${stack.getLogicalId(fn.node.defaultChild as any)}>`;
      const names = metrics.filter((m) => m.namespace === 'AWS/Lambda' && m.dimensions.FunctionName === ref).map((m) => m.metricName);
      expect(names).toEqual(expect.arrayContaining(['Invocations', 'Errors', 'Duration']));
    }
    const duration = metrics.find((m) => m.metricName === 'Duration');
    expect(duration!.options).toMatchObject({ stat: 'p99', yAxis: 'right' });
  });

  test('shows the status of every alarm of every construct, in the overview and in its section', () => {
    const shown = widgetsOf(body, 'alarm').flatMap((w) => w.properties.alarms);
    const all4 = [...all.replicator.alarms, ...all.driftDetector.alarms, ...all.configMapSyncer.alarms, ...all.pipeline.alarms];
    expect(all4.length).toBeGreaterThan(20);
    for (const alarm of all4) {
      const arn = `<GetAtt:${stack.getLogicalId(alarm.node.defaultChild as any)}.Arn>`;
      expect(shown.filter((a: string) => a === arn)).toHaveLength(2);
    }
  });

  test('has a title row, the multi-region health overview with a tile per region, then a header per construct', () => {
    const texts = widgetsOf(body, 'text').map((w) => w.properties.markdown);
    expect(texts[0]).toMatch(/^# Cross-region configuration\n/);
    expect(texts[1]).toMatch(/^## Multi-region health overview/);
    expect(texts.slice(2).map((t) => t.split('\n')[0])).toEqual([
      '### Secret replicator Stack/Replicator',
      '### Configuration drift detector Stack/DriftDetector',
      '### ConfigMap syncer Stack/Syncer',
      `### Multi-region pipeline ${all.pipeline.pipelineName} (Stack/Pipeline)`,
    ]);
    const tiles = body.widgets.filter((w: any) => w.properties.view === 'singleValue' && /^[a-z]{2}-[a-z]+-\d$/.test(w.properties.title));
    expect(tiles.map((t: any) => t.properties.title)).toEqual(['eu-west-1', 'ap-southeast-1', 'us-east-1', 'ap-southeast-2']);
    const euWest1 = metricsOf({ widgets: [tiles[0]] }).map((m) => ({ metricName: m.metricName, dimensions: m.dimensions }));
    expect(euWest1).toEqual([
      { metricName: 'ReplicationFailures', dimensions: { service: all.replicator.serviceName, ReplicaRegion: 'eu-west-1' } },
      { metricName: 'HasDrift', dimensions: { service: all.driftDetector.serviceName, ReplicaRegion: 'eu-west-1' } },
      { metricName: 'SyncFailure', dimensions: { service: all.configMapSyncer.serviceName, Cluster: 'eu-west-1/app-eu' } },
      { metricName: 'RollbackPerformed', dimensions: { service: all.pipeline.serviceName, Region: 'eu-west-1' } },
    ]);
    const totals = body.widgets.find((w: any) => w.properties.title === 'Totals in the time range');
    expect(metricsOf({ widgets: [totals] }).map((m) => m.metricName)).toEqual([
      'ReplicationFailures', 'HasDrift', 'SyncFailure', 'PipelineExecutionFailed', 'RollbackPerformed',
    ]);
  });

  test('lays out every row 24 units wide', () => {
    const rowsByY = new Map<number, number>();
    for (const w of body.widgets) rowsByY.set(w.y, (rowsByY.get(w.y) ?? 0) + w.width);
    expect([...rowsByY.values()].every((width) => width === 24)).toBe(true);
  });

  test('gives metrics in the dashboard\'s own region and account no region or account', () => {
    expect(metrics.filter((m) => m.options.region !== undefined || m.options.accountId !== undefined)).toEqual([]);
  });

  test('adds no warning', () => {
    Annotations.fromStack(stack).hasNoWarning('/Stack/Dashboard', Match.anyValue());
  });
});

describe('constructs in other stacks', () => {
  test('a pipeline in another region gets its region on its metrics; its functions and alarms, keyed by names unknown here, are left out', () => {
    const app = new App();
    const here = envStack(app, 'Dashboards', PRIMARY);
    const replicator = new CrossRegionSecretReplicator(here, 'Replicator', { secrets: SecretSelection.fromNames('app/db'), replicaRegions: ['eu-west-1'] });
    const pipelineStack = envStack(app, 'PipelineStack', 'us-west-2');
    const pipeline = new MultiRegionPipeline(pipelineStack, 'Pipeline', { ...minimalProps(), replicaRegions: ['eu-west-1'] });
    const dashboard = new CrossRegionConfigDashboard(here, 'Dashboard', { replicator, pipeline });

    expect(() => app.synth()).not.toThrow();
    const body = dashboardBody(here, dashboard);
    const metrics = metricsOf(body);
    const pipelineMetrics = metrics.filter((m) => m.dimensions.service === pipeline.serviceName);
    expect(pipelineMetrics.length).toBeGreaterThan(5);
    pipelineMetrics.forEach((m) => expect(m.options.region).toBe('us-west-2'));
    // The replicator is in the dashboard's region: its metrics name none.
    metrics.filter((m) => m.dimensions.service === replicator.serviceName).forEach((m) => expect(m.options.region).toBeUndefined());
    // Functions and alarms of the pipeline are not referenced (that would fail the synthesis).
    const pipelineFunctions = [pipeline.watcherFunction].map((fn) => pipelineStack.getLogicalId(fn.node.defaultChild as any));
    expect(JSON.stringify(body)).not.toContain(pipelineFunctions[0]);
    expect(metrics.filter((m) => m.namespace === 'AWS/Lambda')).toHaveLength(3); // the replicator's invocations, errors, duration
    const alarms = widgetsOf(body, 'alarm').flatMap((w) => w.properties.alarms);
    expect(alarms).toHaveLength(replicator.alarms.length * 2);
    expect(textOf(body)).toContain('Lambda metrics of the watcher function(s) are left out');
    expect(textOf(body)).toContain('The alarms of the pipeline (us-west-2) are in another region or account than this dashboard');
  });

  test('a construct in another stack of the same region shows everything, through stack exports', () => {
    const app = new App();
    const constructsStack = envStack(app, 'Constructs');
    const replicator = new CrossRegionSecretReplicator(constructsStack, 'Replicator', {
      secrets: SecretSelection.fromNames('app/db'), replicaRegions: ['eu-west-1'],
    });
    const here = envStack(app, 'Dashboards');
    const dashboard = new CrossRegionConfigDashboard(here, 'Dashboard', { replicator });
    const body = dashboardBody(here, dashboard);
    const metrics = metricsOf(body);
    expect(metrics.filter((m) => m.options.region !== undefined)).toEqual([]);
    expect(metrics.filter((m) => m.namespace === 'AWS/Lambda').map((m) => m.metricName)).toEqual(['Invocations', 'Errors', 'Duration']);
    expect(widgetsOf(body, 'alarm').flatMap((w) => w.properties.alarms)).toHaveLength(replicator.alarms.length * 2);
    expect(JSON.stringify(body)).toContain('Fn::ImportValue');
  });

  test('a function with an explicit name in another region is shown by its name', () => {
    const app = new App();
    const other = envStack(app, 'Replicas', 'eu-west-1');
    const replicator = new CrossRegionSecretReplicator(other, 'Replicator', {
      secrets: SecretSelection.fromNames('app/db'), replicaRegions: ['us-east-1'], functionName: 'secret-replicator',
    });
    const here = envStack(app, 'Dashboards');
    const dashboard = new CrossRegionConfigDashboard(here, 'Dashboard', { replicator });
    expect(() => app.synth()).not.toThrow();
    const lambdaMetrics = metricsOf(dashboardBody(here, dashboard)).filter((m) => m.namespace === 'AWS/Lambda');
    expect(lambdaMetrics.map((m) => [m.dimensions.FunctionName, m.options.region])).toEqual([
      ['secret-replicator', 'eu-west-1'], ['secret-replicator', 'eu-west-1'], ['secret-replicator', 'eu-west-1'],
    ]);
  });
});

describe('options', () => {
  test('names the dashboard dashboardName', () => {
    const { template } = synth({ props: { dashboardName: 'cross-region_config-1' } });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'cross-region_config-1' });
  });

  test('gives every metric of the graphs the period chosen', () => {
    const { body } = synth({ props: { period: Duration.minutes(1) } });
    const graphs = body.widgets.filter((w: any) => w.properties.view === 'timeSeries');
    const periods = new Set(metricsOf({ widgets: graphs }).map((m) => m.options.period));
    expect(periods).toEqual(new Set([60]));
  });

  test('keeps the latest scan\'s drift status at the scan interval whatever the period, so it never falls between scans', () => {
    const { body } = synth({ props: { period: Duration.minutes(1) } });
    const status = metricsOf(body).filter((m) => m.widget.startsWith('Drift status of the latest scan'));
    expect(status.length).toBeGreaterThan(0);
    // The detector scans hourly: its metrics default to a one-hour period.
    status.forEach((m) => expect(m.options.period).toBe(3600));
  });

  test('shows only the constructs given', () => {
    const app = new App();
    const stack = envStack(app, 'Stack');
    const driftDetector = new ConfigDriftDetector(stack, 'DriftDetector', { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] });
    const dashboard = new CrossRegionConfigDashboard(stack, 'Dashboard', { driftDetector });
    const body = dashboardBody(stack, dashboard);
    expect(new Set(metricsOf(body).filter((m) => m.namespace !== 'AWS/Lambda').map((m) => m.namespace))).toEqual(new Set(['CrossRegionConfig/ConfigurationDrift']));
    expect(textOf(body)).not.toMatch(/Secret replicator|ConfigMap syncer|Multi-region pipeline/);
  });

  test('leaves the alarm status out when the constructs have no alarms', () => {
    const app = new App();
    const stack = envStack(app, 'Stack');
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.fromNames('app/db'), replicaRegions: ['eu-west-1'], createAlarms: false,
    });
    const body = dashboardBody(stack, new CrossRegionConfigDashboard(stack, 'Dashboard', { replicator }));
    expect(widgetsOf(body, 'alarm')).toEqual([]);
    const totals = body.widgets.find((w: any) => w.properties.title === 'Totals in the time range');
    expect(totals.width).toBe(24);
  });
});

describe('validation', () => {
  const app = new App();
  const stack = envStack(app, 'Stack');
  const driftDetector = new ConfigDriftDetector(stack, 'DriftDetector', { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] });

  test('fails if no construct is given', () => {
    expect(() => new CrossRegionConfigDashboard(stack, 'None', {}))
      .toThrow('replicator, parameterReplicator, driftDetector, configMapSyncer, pipeline or parityCheck must be set: the dashboard needs a construct to show, but got undefined');
  });

  test('fails if dashboardName has a character CloudWatch does not allow', () => {
    expect(() => new CrossRegionConfigDashboard(stack, 'BadName', { driftDetector, dashboardName: 'config dashboard' }))
      .toThrow('dashboardName must contain only the characters A-Z a-z 0-9 - _, but got "config dashboard"');
  });

  test('fails if dashboardName is longer than 255 characters', () => {
    expect(() => new CrossRegionConfigDashboard(stack, 'LongName', { driftDetector, dashboardName: 'd'.repeat(256) }))
      .toThrow(`dashboardName must be 1 to 255 characters long (256 received), but got "${'d'.repeat(256)}"`);
  });

  test('fails if dashboardName is empty', () => {
    expect(() => new CrossRegionConfigDashboard(stack, 'EmptyName', { driftDetector, dashboardName: '' }))
      .toThrow('dashboardName must be 1 to 255 characters long (0 received), but got ""');
  });

  test('fails if period is not 1, 5, 10 or 30 seconds or whole minutes', () => {
    expect(() => new CrossRegionConfigDashboard(stack, 'BadPeriod', { driftDetector, period: Duration.seconds(90) }))
      .toThrow('period must be 1, 5, 10 or 30 seconds or a whole number of minutes, but got "1 minute 30 seconds"');
  });

  test('fails if the period of a construct\'s widgets is not 1, 5, 10 or 30 seconds or whole minutes', () => {
    expect(() => driftDetectorDashboardWidgets(driftDetector, { period: Duration.seconds(45) }))
      .toThrow('period must be 1, 5, 10 or 30 seconds or a whole number of minutes, but got "45 seconds"');
  });
});

describe('the widgets of each construct (dashboardWidgets())', () => {
  const sections: Array<[string, (all: ReturnType<typeof constructs>) => cloudwatch.IWidget[]]> = [
    ['replicator', (all) => replicatorDashboardWidgets(all.replicator)],
    ['drift detector', (all) => driftDetectorDashboardWidgets(all.driftDetector)],
    ['ConfigMap syncer', (all) => syncerDashboardWidgets(all.configMapSyncer)],
    ['pipeline', (all) => pipelineDashboardWidgets(all.pipeline)],
  ];

  test.each(sections)('the %s\'s come as rows 24 units wide, headed by a text naming the construct', (_, build) => {
    const stack = envStack(new App(), 'Stack');
    const widgets = build(constructs(stack));
    widgets.forEach((row) => expect(row.width).toBe(24));
    const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard');
    // One call: the rows stack below each other.
    dashboard.addWidgets(...widgets);
    const body = dashboardBody(stack, dashboard);
    expect(body.widgets[0]).toMatchObject({ type: 'text', x: 0, y: 0, width: 24 });
    const rowsByY = new Map<number, number>();
    for (const w of body.widgets) rowsByY.set(w.y, (rowsByY.get(w.y) ?? 0) + w.width);
    expect([...rowsByY.values()].every((width) => width === 24)).toBe(true);
  });

  test('a sequential pipeline without health checks has no health-check or traffic-switch widgets', () => {
    const stack = envStack(new App(), 'Stack');
    const widgets = pipelineDashboardWidgets(new MultiRegionPipeline(stack, 'Pipeline', minimalProps()));
    const json = JSON.stringify(stack.resolve(widgets.flatMap((w) => w.toJson())));
    expect(json).not.toMatch(/HealthCheck|TrafficSwitch/);
    expect(json).toContain('Region');
  });

  test('the parallel strategy counts the replica regions\' rollbacks on their shared stage', () => {
    const parallelStack = envStack(new App(), 'Parallel');
    const pipeline = new MultiRegionPipeline(parallelStack, 'Pipeline', { ...minimalProps(), strategy: DeploymentStrategy.parallel() });
    const body = dashboardBody(parallelStack, new CrossRegionConfigDashboard(parallelStack, 'Dashboard', { pipeline }));
    expect(new Set(splitValues(metricsOf(body), 'RollbackPerformed', 'Region'))).toEqual(new Set([PRIMARY, 'eu-west-1+ap-southeast-2']));
    const tiles = body.widgets.filter((w: any) => ['eu-west-1', 'ap-southeast-2'].includes(w.properties.title));
    expect(metricsOf({ widgets: tiles }).map((m) => [m.dimensions.Region, m.options.label])).toEqual([
      ['eu-west-1+ap-southeast-2', 'Rollbacks (stage eu-west-1+ap-southeast-2)'],
      ['eu-west-1+ap-southeast-2', 'Rollbacks (stage eu-west-1+ap-southeast-2)'],
    ]);
  });
});

describe('cdk-nag', () => {
  test('a consumer applying AwsSolutionsChecks sees no finding on the dashboard', () => {
    const { app } = synth({ blueGreen: true });
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith('Stack/Dashboard/'))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(ours).toEqual([]);
  });
});
