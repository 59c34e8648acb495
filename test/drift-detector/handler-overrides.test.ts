import { AddTagsToResourceCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { guidance } from '../../lambda-src/drift-detector/guidance';
import { readSettings } from '../../lambda-src/drift-detector/handler';
import { Remediator } from '../../lambda-src/drift-detector/remediation';
import { ClientCache } from '../../lambda-src/shared/clients';
import { compareScope, LocationRead } from '../../lambda-src/shared/comparison/compare';
import { RunDigest } from '../../lambda-src/shared/comparison/digest';
import { IgnoreRules } from '../../lambda-src/shared/comparison/ignore';
import { Drift } from '../../lambda-src/shared/comparison/model';
import { ParametersScope } from '../../lambda-src/shared/comparison/parameters';
import type { ParameterOverrideConfig } from '../../src/core/comparison-contract';
import { DriftEnv } from '../../src/drift-detector/contract';

/**
 * Declared per-region parameter values in the shared comparison and in the drift detector's
 * remediation: the override is the expected value in its region, and the value remediation writes.
 */

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const ENDPOINT = '/app/endpoint';
const OVERRIDES: ParameterOverrideConfig[] = [{ name: ENDPOINT, region: EU, value: 'https://api.eu-west-1.example.com' }];
const PRIMARY_VALUE = 'https://api.us-east-1.example.com';

const ssm = mockClient(SSMClient);
beforeEach(() => ssm.reset());
afterAll(() => ssm.restore());

function parametersScope(digest: RunDigest, keep = false, overrides = OVERRIDES): ParametersScope {
  return new ParametersScope({
    clients: new ClientCache(PRIMARY),
    primaryRegion: PRIMARY,
    replicaRegions: [EU, AP],
    path: '/app',
    digest,
    keepForRemediation: keep,
    excludedNames: new Set(),
    overrides,
  });
}

/** Reads every location of `scope` with the values given per region (from the mocked listing). */
type Reads = { primary: LocationRead; replicas: LocationRead[] };
async function readAll(scope: ParametersScope, values: Record<string, string | undefined>): Promise<Reads> {
  const read = async (region: string, role: 'primary' | 'replica'): Promise<LocationRead> => {
    ssm.reset();
    const value = values[region];
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: value === undefined ? [] : [{ Name: ENDPOINT, Value: value, Type: 'String', DataType: 'text' }],
    });
    return { location: { region }, inventory: await scope.read({ region }, role) };
  };
  const primary = await read(PRIMARY, 'primary');
  const replicas = [await read(EU, 'replica'), await read(AP, 'replica')];
  return { primary, replicas };
}

const options = { ignore: new IgnoreRules([]), graceWindowMs: 0, reportExtraItems: false, now: new Date('2026-01-01T00:00:00Z') };
const summary = (drifts: ReadonlyArray<Omit<Drift, 'remediation'>>) => drifts.map((d) => `${d.driftType} ${d.replicaRegion}`);

test('a replica holding its declared override is not drift; the other replica region still expects the primary value', async () => {
  const scope = parametersScope(new RunDigest());
  const { primary, replicas } = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: OVERRIDES[0].value, [AP]: PRIMARY_VALUE });
  const result = compareScope(scope, primary, replicas, options);
  expect(summary(result.drifts)).toEqual([]);
  expect(result.compared).toBe(2);
});

test('a replica holding the primary value instead of its override is VALUE_MISMATCH', async () => {
  const scope = parametersScope(new RunDigest());
  const { primary, replicas } = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: PRIMARY_VALUE, [AP]: PRIMARY_VALUE });
  expect(summary(compareScope(scope, primary, replicas, options).drifts)).toEqual([`VALUE_MISMATCH ${EU}`]);
});

test('an override is not a wildcard: any other replica value, and a missing replica, are drift', async () => {
  const scope = parametersScope(new RunDigest());
  const { primary, replicas } = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: 'https://stale.example.com', [AP]: 'https://api.eu-west-1.example.com' });
  expect(summary(compareScope(scope, primary, replicas, options).drifts)).toEqual([`VALUE_MISMATCH ${EU}`, `VALUE_MISMATCH ${AP}`]);
  const missing = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: undefined, [AP]: PRIMARY_VALUE });
  expect(summary(compareScope(scope, missing.primary, missing.replicas, options).drifts)).toEqual([`MISSING_IN_REPLICA ${EU}`]);
});

test('without overrides, the same reads compare against the primary value (the comparison is unchanged)', async () => {
  const scope = parametersScope(new RunDigest(), false, []);
  const { primary, replicas } = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: OVERRIDES[0].value, [AP]: PRIMARY_VALUE });
  expect(summary(compareScope(scope, primary, replicas, options).drifts)).toEqual([`VALUE_MISMATCH ${EU}`]);
});

test('remediation in APPLY mode writes the override into its region and the primary value elsewhere', async () => {
  const digest = new RunDigest();
  const scope = parametersScope(digest, true);
  const { primary, replicas } = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: PRIMARY_VALUE, [AP]: 'stale' });
  const result = compareScope(scope, primary, replicas, options);
  expect(summary(result.drifts)).toEqual([`VALUE_MISMATCH ${EU}`, `VALUE_MISMATCH ${AP}`]);
  ssm.reset();
  ssm.on(PutParameterCommand).resolves({ Version: 2 });
  ssm.on(AddTagsToResourceCommand).resolves({});
  const remediator = new Remediator({
    clients: new ClientCache(PRIMARY),
    mode: 'APPLY',
    primaryRegion: PRIMARY,
    targets: [{ region: EU }, { region: AP }],
    ignore: new IgnoreRules([]),
    now: () => options.now,
  });
  const primaryItem = 'inventory' in primary ? primary.inventory.items.get(ENDPOINT) : undefined;
  const drifts = result.drifts.map((d) => ({ ...d, remediation: { guidance: '', commands: [] } }) as Drift);
  await remediator.repair(drifts.map((d) => ({ scope, location: { region: d.replicaRegion }, primary: primaryItem, drifts: [d] })));
  expect(drifts.map((d) => d.autoRemediation?.status)).toEqual(['repaired', 'repaired']);
  const written = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input.Value);
  // The client cache hands each region its own client, but the mock sees every call: order follows the drifts.
  expect(written.sort()).toEqual([OVERRIDES[0].value, PRIMARY_VALUE].sort());
  expect(ssm.commandCalls(PutParameterCommand).find((c) => c.args[0].input.Value === PRIMARY_VALUE)).toBeDefined();
  // After the repair, a new scan finds no drift.
  const after = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: OVERRIDES[0].value, [AP]: PRIMARY_VALUE });
  expect(summary(compareScope(scope, after.primary, after.replicas, options).drifts)).toEqual([]);
});

test('a replica missing in a region with an override is created with the override', async () => {
  const scope = parametersScope(new RunDigest(), true);
  const { primary, replicas } = await readAll(scope, { [PRIMARY]: PRIMARY_VALUE, [EU]: undefined, [AP]: PRIMARY_VALUE });
  const result = compareScope(scope, primary, replicas, options);
  ssm.reset();
  ssm.on(PutParameterCommand).resolves({ Version: 1 });
  ssm.on(AddTagsToResourceCommand).resolves({});
  const remediator = new Remediator({
    clients: new ClientCache(PRIMARY),
    mode: 'APPLY',
    primaryRegion: PRIMARY,
    targets: [{ region: EU }, { region: AP }],
    ignore: new IgnoreRules([]),
    now: () => options.now,
  });
  const drift = { ...result.drifts[0], remediation: { guidance: '', commands: [] } } as Drift;
  expect(drift.driftType).toBe('MISSING_IN_REPLICA');
  const primaryItem = 'inventory' in primary ? primary.inventory.items.get(ENDPOINT) : undefined;
  await remediator.repair([{ scope, location: { region: EU }, primary: primaryItem, drifts: [drift] }]);
  expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
    expect.objectContaining({ Name: ENDPOINT, Value: OVERRIDES[0].value, Type: 'String', Overwrite: true }),
  ]);
});

test('guidance for an overridden parameter names the declared value without carrying it', () => {
  const drift = {
    kind: 'parameter' as const, name: ENDPOINT, driftType: 'VALUE_MISMATCH' as const, primaryRegion: PRIMARY, replicaRegion: EU, detectedAt: '',
  };
  const context = {
    replicaKeys: new Map(),
    parameterTypes: new Map([[ENDPOINT, 'String']]),
    binarySecrets: new Set<string>(),
    ignoredConfigMapKeys: () => [],
    overriddenParameters: new Set([`${EU}\u0000${ENDPOINT}`]),
  };
  const g = guidance(drift, context);
  expect(g.guidance).toContain('declared value');
  expect(g.commands).toEqual([`aws ssm put-parameter --region ${EU} --name ${ENDPOINT} --type String --tier Intelligent-Tiering --overwrite --value "<the declared value>"`]);
  expect(JSON.stringify(g)).not.toContain(OVERRIDES[0].value);
  // Other regions keep the copy-from-primary guidance.
  expect(guidance({ ...drift, replicaRegion: AP }, context).commands[0]).toContain(`get-parameter --region ${PRIMARY}`);
});

describe('PARAMETER_OVERRIDES', () => {
  const base = { [DriftEnv.PRIMARY_REGION]: PRIMARY, [DriftEnv.REPLICA_TARGETS]: JSON.stringify([{ region: EU }]), [DriftEnv.REPORT_BUCKET]: 'b' };

  test('is read as the declared values; absent means none', () => {
    expect(readSettings({ ...base, [DriftEnv.PARAMETER_OVERRIDES]: JSON.stringify(OVERRIDES) }).parameterOverrides).toEqual(OVERRIDES);
    expect(readSettings(base).parameterOverrides).toEqual([]);
  });

  test('fails at cold start when malformed, without echoing the values', () => {
    const bad = JSON.stringify([{ name: ENDPOINT, region: EU, value: 42, secret: 'do-not-echo' }]);
    expect(() => readSettings({ ...base, [DriftEnv.PARAMETER_OVERRIDES]: bad }))
      .toThrow(`environment variable ${DriftEnv.PARAMETER_OVERRIDES} must be a JSON array of {"name", "region", "value"} strings`);
    try {
      readSettings({ ...base, [DriftEnv.PARAMETER_OVERRIDES]: bad });
    } catch (e) {
      expect((e as Error).message).not.toContain('do-not-echo');
    }
  });
});
