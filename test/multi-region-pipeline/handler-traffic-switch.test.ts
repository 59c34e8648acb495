/**
 * Unit tests of the traffic switch for what moto cannot show: Route 53 answering PENDING (moto
 * reports every change INSYNC at once), paging with NextRecordIdentifier (moto ignores
 * StartRecordIdentifier) and escaped names. The behaviour against real protocols is in
 * traffic-switch.integ.test.ts.
 */
import {
  ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { JobConfigurationError } from '../../lambda-src/multi-region-pipeline/job';
import {
  describeTarget, parseTrafficSwitchParameters, switchTraffic, targetSlot, TrafficSwitchError, waitForChange,
} from '../../lambda-src/multi-region-pipeline/traffic-switch';
import { ClientCache } from '../../lambda-src/shared/clients';
import type { Route53WeightedSwitchConfig } from '../../src/multi-region-pipeline/contract';

const route53 = mockClient(Route53Client);
const NAME = 'api.eu-west-1.example.com.';

const config: Route53WeightedSwitchConfig = {
  type: 'route53-weighted',
  hostedZoneId: 'Z0001',
  recordName: 'api.{region}.example.com',
  recordType: 'A',
  setIdentifiers: { blue: 'blue', green: 'green' },
  liveWeight: 100,
};

const record = (id: string, weight: number | undefined, name = NAME, type = 'A'): ResourceRecordSet => ({
  Name: name, Type: type as 'A', SetIdentifier: id, ...(weight !== undefined ? { Weight: weight } : {}), TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }],
});

/** A recorder for the pauses of the wait, so tests never sleep. */
function sleeper() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => { pauses.push(ms); } };
}

beforeEach(() => route53.reset());
afterAll(() => route53.restore());

describe('targetSlot', () => {
  test.each([
    ['green', 'ROLLBACK', 'blue'],
    ['blue', 'ROLLBACK', 'blue'],
    ['green', 'STANDARD', 'green'],
    ['blue', 'STANDARD', 'blue'],
    ['green', undefined, 'green'],
  ] as const)('sends a request for %s in a %s execution to %s', (requested, executionType, expected) => {
    expect(targetSlot(requested, executionType)).toBe(expected);
  });
});

describe('waitForChange', () => {
  test('polls GetChange with a doubling pause until the change is INSYNC', async () => {
    route53.on(GetChangeCommand)
      .resolvesOnce({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } })
      .resolvesOnce({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } })
      .resolves({ ChangeInfo: { Id: 'C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    const { pauses, sleep } = sleeper();

    await waitForChange(new Route53Client({ region: 'us-east-1' }), '/change/C1', 'route53 x. A', { sleep });

    expect(pauses).toEqual([1_000, 2_000]);
    expect(route53.commandCalls(GetChangeCommand).map((c) => c.args[0].input)).toEqual(Array(3).fill({ Id: '/change/C1' }));
  });

  test('gives up after at most two minutes of pauses, each at most 10 s, naming the change and the target', async () => {
    route53.on(GetChangeCommand).resolves({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } });
    const { pauses, sleep } = sleeper();

    await expect(waitForChange(new Route53Client({ region: 'us-east-1' }), '/change/C1', 'route53 x. A', { sleep }))
      .rejects.toThrow('change /change/C1 to route53 x. A was submitted but not INSYNC after 120 s');

    expect(pauses.reduce((a, b) => a + b, 0)).toBe(120_000);
    expect(Math.max(...pauses)).toBe(10_000);
    expect(pauses.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000]);
  });
});

describe('switchTraffic with route53-weighted', () => {
  test('waits for a PENDING change before reporting the switch', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record('blue', 100), record('green', 0)], IsTruncated: false });
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C9', Status: 'PENDING', SubmittedAt: new Date() } });
    route53.on(GetChangeCommand)
      .resolvesOnce({ ChangeInfo: { Id: 'C9', Status: 'PENDING', SubmittedAt: new Date() } })
      .resolves({ ChangeInfo: { Id: 'C9', Status: 'INSYNC', SubmittedAt: new Date() } });
    const { pauses, sleep } = sleeper();

    const outcome = await switchTraffic(config, 'eu-west-1', 'green', new ClientCache('us-east-1'), { sleep });

    expect(outcome).toEqual({ region: 'eu-west-1', liveSlot: 'green', previousSlot: 'blue', changed: true, target: `route53 ${NAME} A` });
    expect(pauses).toEqual([1_000]);
    expect(route53.commandCalls(GetChangeCommand)).toHaveLength(2);
    const [change] = route53.commandCalls(ChangeResourceRecordSetsCommand);
    expect(change.args[0].input.ChangeBatch!.Changes).toEqual([
      { Action: 'UPSERT', ResourceRecordSet: record('green', 100) },
      { Action: 'UPSERT', ResourceRecordSet: record('blue', 0) },
    ]);
  });

  test('reads the pair from where the name starts and follows NextRecordIdentifier across pages', async () => {
    route53.on(ListResourceRecordSetsCommand, { StartRecordIdentifier: undefined }).resolves({
      ResourceRecordSets: [record('blue', 100)], IsTruncated: true, NextRecordName: NAME, NextRecordType: 'A', NextRecordIdentifier: 'green',
    });
    route53.on(ListResourceRecordSetsCommand, { StartRecordIdentifier: 'green' }).resolves({
      ResourceRecordSets: [record('green', 0), record('blue', 100, 'www.example.com.')], IsTruncated: true, NextRecordName: 'zz.example.com.', NextRecordType: 'A',
    });
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });

    const outcome = await switchTraffic(config, 'eu-west-1', 'green', new ClientCache('us-east-1'));

    expect(outcome.changed).toBe(true);
    // The record past the name ends the listing, although the page says there is more.
    expect(route53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: 'Z0001', StartRecordName: NAME, StartRecordType: 'A' },
      { HostedZoneId: 'Z0001', StartRecordName: NAME, StartRecordType: 'A', StartRecordIdentifier: 'green' },
    ]);
  });

  test('refuses a listing whose next page starts where the last one did', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record('blue', 100)], IsTruncated: true, NextRecordName: NAME, NextRecordType: 'A' });

    await expect(switchTraffic(config, 'eu-west-1', 'green', new ClientCache('us-east-1')))
      .rejects.toThrow(`ListResourceRecordSets for ${NAME} A did not advance: its next page starts where the last one did`);
    expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
  });

  test('matches a wildcard name that Route 53 lists with an octal escape', async () => {
    const wildcard = '\\052.eu-west-1.example.com.';
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record('blue', 0, wildcard), record('green', 7, wildcard)], IsTruncated: false });

    const outcome = await switchTraffic({ ...config, recordName: '*.{region}.example.com', liveWeight: 7 }, 'eu-west-1', 'green', new ClientCache('us-east-1'));

    expect(outcome).toEqual({ region: 'eu-west-1', liveSlot: 'green', previousSlot: 'green', changed: false, target: 'route53 *.eu-west-1.example.com. A' });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  test('rewrites a pair whose live record has another weight than liveWeight', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record('blue', 0), record('green', 5)], IsTruncated: false });
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });

    const outcome = await switchTraffic(config, 'eu-west-1', 'green', new ClientCache('us-east-1'));

    expect(outcome).toMatchObject({ previousSlot: 'green', changed: true });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)[0].args[0].input.ChangeBatch!.Changes![0].ResourceRecordSet!.Weight).toBe(100);
  });

  test.each([0, 256, 1.5])('refuses a liveWeight of %p before calling Route 53', async (liveWeight) => {
    await expect(switchTraffic({ ...config, liveWeight }, 'eu-west-1', 'green', new ClientCache('us-east-1')))
      .rejects.toThrow(new TrafficSwitchError(`liveWeight must be an integer from 1 to 255, but got ${liveWeight}`));
    expect(route53.calls()).toHaveLength(0);
  });
});

describe('describeTarget', () => {
  test('names the resolved record with its type, or the resolved parameter', () => {
    expect(describeTarget({ ...config, recordType: 'aaaa' }, 'us-east-1')).toBe('route53 api.us-east-1.example.com. AAAA');
    expect(describeTarget({ type: 'ssm-parameter', parameterName: '/app/{region}/{region}' }, 'eu-west-1')).toBe('ssm /app/eu-west-1/eu-west-1');
  });
});

describe('parseTrafficSwitchParameters', () => {
  test('accepts a region and a slot', () => {
    expect(parseTrafficSwitchParameters({ region: 'us-gov-west-1', slot: 'blue' })).toEqual({ region: 'us-gov-west-1', slot: 'blue' });
  });

  test.each([
    [null, 'must be a JSON object with "region" and "slot"'],
    [{ region: 'eu-west', slot: 'blue' }, 'field "region" must be an AWS region such as "eu-west-1", but got "eu-west"'],
    [{ region: 'EU-WEST-1', slot: 'blue' }, 'field "region" must be an AWS region'],
    [{ region: 'eu-west-1' }, 'field "slot" must be "blue" or "green", but got undefined'],
    [{ region: 'eu-west-1', slot: 'Blue' }, 'field "slot" must be "blue" or "green", but got "Blue"'],
  ])('fails for %j naming the field', (value, message) => {
    expect(() => parseTrafficSwitchParameters(value)).toThrow(JobConfigurationError);
    expect(() => parseTrafficSwitchParameters(value)).toThrow(message);
  });
});
