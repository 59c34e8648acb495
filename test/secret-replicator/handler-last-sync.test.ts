import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { formatTimestamp, inSyncEverywhere, MIN_UPDATE_INTERVAL_MS, recordLastSync } from '../../lambda-src/secret-replicator/last-sync';
import type { TargetResult } from '../../lambda-src/shared/secrets/replicator';

const ssm = mockClient(SSMClient);
const NAME = '/app/prod/global/secrets/cross-region-config';
const OWN = { primaryRegion: 'us-east-1', replicationRegions: ['eu-west-1', 'ap-southeast-2'] };
const AT = new Date('2026-11-28T10:30:00.123Z');
const doc = (extra: Record<string, unknown> = {}) => JSON.stringify({ primaryRegion: 'us-east-1', replicationRegions: ['ap-southeast-2', 'eu-west-1'], syncEnabled: true, lastSyncTimestamp: null, ...extra });
const result = (outcome: TargetResult['outcome']): TargetResult => ({ secretName: 'app/db', region: 'eu-west-1', outcome });

beforeEach(() => ssm.reset());

test('formats lastSyncTimestamp as the document layout defines it: UTC to the second', () => {
  expect(formatTimestamp(AT)).toBe('2026-11-28T10:30:00Z');
});

test('sets lastSyncTimestamp and keeps every other field', async () => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: doc({ conflictPolicy: 'PRIMARY_WINS' }) } });
  await expect(recordLastSync(new SSMClient({}), NAME, AT, OWN)).resolves.toBe('updated');
  const put = ssm.commandCalls(PutParameterCommand)[0].args[0].input;
  expect(put).toMatchObject({ Name: NAME, Type: 'String', Overwrite: true });
  expect(JSON.parse(put.Value!)).toEqual(JSON.parse(doc({ conflictPolicy: 'PRIMARY_WINS', lastSyncTimestamp: '2026-11-28T10:30:00Z' })));
});

test('writes at most once a minute', async () => {
  const recent = new Date(AT.getTime() - MIN_UPDATE_INTERVAL_MS + 1000);
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: doc({ lastSyncTimestamp: formatTimestamp(recent) }) } });
  await expect(recordLastSync(new SSMClient({}), NAME, AT, OWN)).resolves.toBe('recent');
  expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
});

test('moves a timestamp that is in the future (a clock or a hand edit) back to now', async () => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: doc({ lastSyncTimestamp: '2030-01-01T00:00:00Z' }) } });
  await expect(recordLastSync(new SSMClient({}), NAME, AT, OWN)).resolves.toBe('updated');
});

test('leaves a parameter that is not a JSON object alone', async () => {
  for (const value of ['not json', '[1,2]', 'null']) {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: value } });
    await expect(recordLastSync(new SSMClient({}), NAME, AT, OWN)).resolves.toBe('not-a-document');
  }
  expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
});

test('does not write back a document with other settings (a deployment is changing it)', async () => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: doc({ replicationRegions: ['eu-west-1', 'ap-southeast-2', 'us-west-2'] }) } });
  await expect(recordLastSync(new SSMClient({}), NAME, AT, OWN)).resolves.toBe('other-settings');
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: doc({ primaryRegion: 'eu-central-1' }) } });
  await expect(recordLastSync(new SSMClient({}), NAME, AT, OWN)).resolves.toBe('other-settings');
  expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
});

describe('inSyncEverywhere', () => {
  test('is true when every result agrees with the primary', () => {
    expect(inSyncEverywhere(['created', 'updated', 'in-sync', 'conflict-overwritten', 'deleted', 'absent', 'stale-skipped'].map((o) => result(o as any)), true)).toBe(true);
  });
  test('counts a deletion the settings do not propagate as agreement (an intended difference)', () => {
    expect(inSyncEverywhere([result('in-sync'), result('deletion-not-propagated')], false)).toBe(true);
  });
  test.each(['conflict-skipped', 'failed'])('is false with %s', (outcome) => {
    expect(inSyncEverywhere([result('in-sync'), result(outcome as any)], false)).toBe(false);
  });
  test('is false for a change event that concerned no selected secret, true for an empty reconcile', () => {
    expect(inSyncEverywhere([], true)).toBe(false);
    expect(inSyncEverywhere([], false)).toBe(true);
  });
});
