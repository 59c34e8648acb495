import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MINIMAL_PROPS } from './util';
import { CrossRegionConfigDashboard, CrossRegionParameterReplicator } from '../../src';

/** The dashboard body with CloudFormation values as `<...>` placeholders. */
function body(stack: Stack): string {
  const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')) as any[];
  const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
  return parts.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
}

describe('CrossRegionConfigDashboard with a parameter replicator', () => {
  test('shows its section and its failures in the overview totals and in each replica region\'s tile', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', { ...MINIMAL_PROPS, replicaRegions: ['eu-west-1', 'ap-southeast-1'] });
    new CrossRegionConfigDashboard(stack, 'Dashboard', { parameterReplicator: replicator });
    const text = body(stack);
    expect(text).toContain('the parameter replicator (us-east-1 → eu-west-1 and ap-southeast-1)');
    expect(text).toContain('Parameter replicator Stack/Parameters');
    expect(text).toContain('Parameters written to replicas, by replica region');
    const widgets = JSON.parse(text.replace(/<\{[^>]*\}>/g, 'X')).widgets as any[];
    const tiles = widgets.filter((w) => w.type === 'metric' && ['eu-west-1', 'ap-southeast-1'].includes(w.properties.title));
    expect(tiles.map((t) => t.properties.title).sort()).toEqual(['ap-southeast-1', 'eu-west-1']);
    for (const t of tiles) {
      expect(JSON.stringify(t.properties.metrics)).toContain('"ReplicationFailures"');
      expect(JSON.stringify(t.properties.metrics)).toContain(`"ReplicaRegion","${t.properties.title}"`);
    }
    const [alarmStatus] = widgets.filter((w) => w.type === 'alarm' && w.properties.title === 'Alarm status');
    expect(alarmStatus.properties.alarms).toHaveLength(replicator.alarms.length);
  });
});
