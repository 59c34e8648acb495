/**
 * The drift detector handler end to end against moto server (one primary, two replica regions)
 * through a fault-injecting proxy: a 1,000-item inventory with seeded drifts of every type, the
 * grace window, ignore rules, the S3 report against its JSON Schema, EMF metrics, auto-remediation
 * (dry run and apply), an unreachable region, and a leak scan. Runs on the Lambda runtime's Node major.
 */
import { tmpdir } from 'node:os';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigWorld, inParallel, reportSchemaErrors } from './world';
import { ConfigDriftDetector, CrossRegionSecretReplicator, DriftRemediation, SecretSelection } from '../../src';
import { handlerServiceName } from '../../src/core/bundled-handler';
import { DriftEnv } from '../../src/drift-detector/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { EvaluationGroup, evaluateGroups } from '../harness/iam-evaluation';
import { IamRecorder, RecordedCall } from '../harness/iam-recorder';
import { startMotoServer } from '../harness/moto';
import { OutputCapture, recordingHandlers } from '../harness/world';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const REPLICAS = [EU, AP];
/** The service name (and so the run lease path) of the construct the IAM evaluation synthesizes, IamEvaluation/Detector. */
const SERVICE = handlerServiceName(new Construct(new Stack(new App(), 'IamEvaluation'), 'Detector'));
const NAMESPACE = 'Test/ConfigurationDrift';
const BUCKET = 'drift-reports-under-test';
const SECRETS = 400;
const PARAMETERS = 600;

type Handler = (event: unknown) => Promise<any>;

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let world: ConfigWorld;
let euKey: string;
let provenanceKeyArn: string;
let recorder: IamRecorder;
const output = new OutputCapture();
const results: string[] = [];
const savedEnv = { ...process.env };
let createHandler: (env: NodeJS.ProcessEnv) => Handler;

const secretName = (i: number) => `inv/s${String(i).padStart(3, '0')}`;
const parameterName = (i: number) => `/inv/p${String(i).padStart(3, '0')}`;

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [DriftEnv.PRIMARY_REGION]: PRIMARY,
    [DriftEnv.REPLICA_TARGETS]: JSON.stringify([{ region: EU, kmsKeyId: euKey }, { region: AP }]),
    [DriftEnv.SECRET_SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['inv/'] }] }),
    [DriftEnv.COMPARED_TAG_KEYS]: JSON.stringify(['team']),
    [DriftEnv.PARAMETER_PATHS]: JSON.stringify(['/inv']),
    [DriftEnv.IGNORE_RULES]: JSON.stringify([
      { kind: 'parameter', namePattern: '/inv/p010' },
      { kind: 'secret', namePattern: 'inv/s01?', regions: [AP] },
    ]),
    [DriftEnv.GRACE_WINDOW_SECONDS]: '0',
    [DriftEnv.REPORT_EXTRA_ITEMS]: 'true',
    [DriftEnv.REPORT_BUCKET]: BUCKET,
    [DriftEnv.REPORT_PREFIX]: 'drift-reports/',
    [DriftEnv.REMEDIATION_MODE]: 'OFF',
    [DriftEnv.PROVENANCE_KEY_SECRET_ARN]: provenanceKeyArn,
    [DriftEnv.ACCOUNT_ID]: '123456789012',
    ...overrides,
  };
}

/** `kind name driftType region` of every drift, sorted: the shape the seeded expectations use. */
function drifts(result: any): string[] {
  return result.drifts.map((d: any) => `${d.kind} ${d.name} ${d.driftType} ${d.replicaRegion}`).sort();
}

/** The drifts seeded in `beforeAll`, with the ones hidden by ignore rules left out. */
const SEEDED = [
  `secret inv/s001 MISSING_IN_REPLICA ${EU}`,
  `secret inv/s002 VALUE_MISMATCH ${AP}`,
  `secret inv/s003 METADATA_MISMATCH ${EU}`,
  `secret inv/s004 METADATA_MISMATCH ${AP}`,
  `secret inv/s005 VALUE_MISMATCH ${EU}`,
  `secret inv/zz-extra EXTRA_IN_REPLICA ${AP}`,
  `parameter /inv/p001 MISSING_IN_REPLICA ${EU}`,
  `parameter /inv/p002 VALUE_MISMATCH ${EU}`,
  `parameter /inv/p003 METADATA_MISMATCH ${EU}`,
  `parameter /inv/zz-extra EXTRA_IN_REPLICA ${EU}`,
].sort();

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 11 });
  recorder = new IamRecorder(moto.endpoint);
  recorder.attach(proxy);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [DriftEnv.METRIC_NAMESPACE]: NAMESPACE,
    [DriftEnv.SERVICE_NAME]: SERVICE,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ConfigWorld(moto.endpoint);
  euKey = await world.createKey(EU);
  await world.createBucket(PRIMARY, BUCKET);
  provenanceKeyArn = await world.create(PRIMARY, 'cross-region-config/provenance-key', world.newValue('hmac-key-material-0123456789abcdef0123456789'));

  // 400 secrets and 600 parameters, identical in every region, then the drifts.
  const secretValues = Array.from({ length: SECRETS }, (_, i) => world.newValue(`secret${i}`));
  await inParallel([...Array(SECRETS).keys()], 16, async (i) => {
    for (const region of [PRIMARY, ...REPLICAS]) {
      if (i === 1 && region === EU) continue; // missing
      await world.client(region).send(new CreateSecretCommand({
        Name: secretName(i),
        SecretString: secretValues[i],
        ...(region === EU && i !== 3 ? { KmsKeyId: euKey } : {}), // s003: default key where a CMK is expected
        Tags: [{ Key: 'team', Value: i === 4 && region === AP ? 'other-team' : 'payments' }],
      }));
    }
  });
  await world.client(AP).send(new PutSecretValueCommand({ SecretId: secretName(2), SecretString: world.newValue('local-edit') }));
  await world.client(EU).send(new PutSecretValueCommand({ SecretId: secretName(5), SecretString: world.newValue('local-edit') }));
  await world.client(AP).send(new PutSecretValueCommand({ SecretId: secretName(12), SecretString: world.newValue('ignored-edit') }));
  await world.create(AP, 'inv/zz-extra', world.newValue('extra'));

  const parameterValues = Array.from({ length: PARAMETERS }, (_, i) => world.newValue(`param${i}`));
  await inParallel([...Array(PARAMETERS).keys()], 16, async (i) => {
    for (const region of [PRIMARY, ...REPLICAS]) {
      if (i === 1 && region === EU) continue;
      await world.putParameter(region, parameterName(i), parameterValues[i], i === 3 && region === EU ? 'SecureString' : i % 7 === 0 ? 'SecureString' : 'String');
    }
  });
  await world.putParameter(EU, parameterName(2), world.newValue('local-edit'));
  await world.putParameter(EU, parameterName(10), world.newValue('ignored-edit'));
  await world.putParameter(EU, '/inv/zz-extra', world.newValue('extra'));

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = recordingHandlers(require('../../lambda-src/drift-detector/handler').createHandler, results);
  output.start();
}, 600_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

afterEach(() => proxy.clearRules());

describe('a 1,000-item inventory with seeded drifts', () => {
  let result: any;
  let from: number;

  beforeAll(async () => {
    from = output.lines.length;
    result = await createHandler(env())({ action: 'manual_check' });
  });

  test('reports exactly the seeded drifts: no false positive, no false negative', () => {
    expect(drifts(result)).toEqual(SEEDED);
    expect(result.summary).toMatchObject({
      driftCount: SEEDED.length,
      hasDrift: true,
      scanFailures: 0,
      itemsDeferred: 0,
      // (400 secrets + 600 parameters) × 2 regions, minus p010 in both and s010-s019 in ap-southeast-2.
      itemsCompared: (SECRETS + PARAMETERS) * 2 - 2 - 10,
      itemsIgnored: 12,
    });
    expect(result.summary.byDriftType).toEqual({
      MISSING_IN_REPLICA: 2, EXTRA_IN_REPLICA: 2, VALUE_MISMATCH: 3, METADATA_MISMATCH: 3, SCAN_FAILED: 0,
    });
  });

  test('names what differs in metadata, never a value', () => {
    const byName = new Map(result.drifts.map((d: any) => [`${d.name} ${d.driftType}`, d]));
    expect((byName.get('inv/s003 METADATA_MISMATCH') as any).details).toEqual([{ field: 'kmsKey', primary: euKey, replica: 'alias/aws/secretsmanager' }]);
    expect((byName.get('inv/s004 METADATA_MISMATCH') as any).details).toEqual([{ field: 'tag:team', primary: 'payments', replica: 'other-team' }]);
    expect((byName.get('/inv/p003 METADATA_MISMATCH') as any).details).toEqual([{ field: 'type', primary: 'String', replica: 'SecureString' }]);
  });

  test('gives the exact AWS CLI command that fixes each drift', () => {
    const missing = result.drifts.find((d: any) => d.name === 'inv/s001');
    expect(missing.remediation.commands).toEqual([
      `aws secretsmanager create-secret --region ${EU} --name inv/s001 --kms-key-id ${euKey} --secret-string `
      + `file://<(aws secretsmanager get-secret-value --region ${PRIMARY} --secret-id inv/s001 --query SecretString --output json | jq -j .)`,
    ]);
    const parameter = result.drifts.find((d: any) => d.name === '/inv/p002');
    expect(parameter.remediation.commands).toEqual([
      `aws ssm put-parameter --region ${EU} --name /inv/p002 --type String --tier Intelligent-Tiering --overwrite `
      + `--value "$(aws ssm get-parameter --region ${PRIMARY} --name /inv/p002 --with-decryption --query Parameter.Value --output text)"`,
    ]);
  });

  test('writes a schema-valid report to S3, dated and as latest.json', async () => {
    const keys = await world.keys(PRIMARY, BUCKET, 'drift-reports/');
    expect(keys).toContain('drift-reports/latest.json');
    expect(result.reportLocation).toMatch(new RegExp(`^s3://${BUCKET}/drift-reports/\\d{4}/\\d{2}/\\d{2}/${result.runId}\\.json$`));
    const dated = result.reportLocation.slice(`s3://${BUCKET}/`.length);
    const report = JSON.parse(await world.objectText(PRIMARY, BUCKET, dated));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.drifts.map((d: any) => `${d.kind} ${d.name} ${d.driftType} ${d.replicaRegion}`).sort()).toEqual(SEEDED);
    expect(JSON.parse(await world.objectText(PRIMARY, BUCKET, 'drift-reports/latest.json')).runId).toBe(result.runId);
  });

  test('emits DriftCount and HasDrift in total, per resource type and per replica region (EMF)', () => {
    const dims = (extra: Record<string, string> = {}) => ({ service: SERVICE, ...extra });
    expect(output.metricSum('DriftCount', dims(), from)).toBe(SEEDED.length);
    expect(output.metricSum('HasDrift', dims(), from)).toBe(1);
    expect(output.metricSum('DriftCount', dims({ ResourceType: 'secret' }), from)).toBe(6);
    expect(output.metricSum('DriftCount', dims({ ResourceType: 'parameter' }), from)).toBe(4);
    expect(output.metricSum('DriftCount', dims({ ReplicaRegion: EU }), from)).toBe(7);
    expect(output.metricSum('DriftCount', dims({ ReplicaRegion: AP }), from)).toBe(3);
    expect(output.metricSum('HasDrift', dims({ ReplicaRegion: AP }), from)).toBe(1);
    expect(output.metricSum('ScanFailures', dims(), from)).toBe(0);
    for (const doc of output.emf(from)) expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(NAMESPACE);
  });

  test('logs a short human-readable summary', () => {
    const summary = output.logs(from).find((l) => String(l.message).startsWith('Drift scan '));
    expect(summary?.message).toContain(`${SEEDED.length} drifts across 2 replica region(s) of ${PRIMARY}`);
    expect(summary?.message).toContain(`Report: ${result.reportLocation}`);
  });
});

describe('grace window', () => {
  test('defers an item changed in the primary within the window, and reports it once the window has passed', async () => {
    await world.putParameter(PRIMARY, '/grace/fresh', world.newValue('grace'));
    await world.putParameter(PRIMARY, '/grace/old', world.newValue('grace'));
    await new Promise((r) => setTimeout(r, 4_000));
    await world.putParameter(PRIMARY, '/grace/fresh', world.newValue('grace-v2'));
    const handler = createHandler(env({
      [DriftEnv.PARAMETER_PATHS]: JSON.stringify(['/grace']),
      [DriftEnv.SECRET_SELECTION]: '',
      [DriftEnv.GRACE_WINDOW_SECONDS]: '3',
    }));

    const first = await handler({ action: 'manual_check' });
    expect(drifts(first)).toEqual([`parameter /grace/old MISSING_IN_REPLICA ${AP}`, `parameter /grace/old MISSING_IN_REPLICA ${EU}`]);
    expect(first.deferred.map((d: any) => d.name)).toEqual(['/grace/fresh']);
    expect(Date.parse(first.deferred[0].recheckAfter) - Date.parse(first.deferred[0].changedAt)).toBe(3_000);

    await new Promise((r) => setTimeout(r, 3_500));
    const second = await handler({ action: 'manual_check' });
    expect(drifts(second)).toEqual([
      `parameter /grace/fresh MISSING_IN_REPLICA ${AP}`, `parameter /grace/fresh MISSING_IN_REPLICA ${EU}`,
      `parameter /grace/old MISSING_IN_REPLICA ${AP}`, `parameter /grace/old MISSING_IN_REPLICA ${EU}`,
    ]);
    expect(second.deferred).toEqual([]);
  });
});

describe('an unreachable replica region', () => {
  test('is reported as scan-failed per scope while the other region is still reported', async () => {
    proxy.addRule({ region: AP, fault: 'connection-refused' });
    const result = await createHandler(env())({ action: 'manual_check' });

    const failed = result.drifts.filter((d: any) => d.driftType === 'SCAN_FAILED');
    expect(failed.map((d: any) => `${d.kind} ${d.name} ${d.replicaRegion} ${d.failure.location} ${d.failure.region}`).sort())
      .toEqual([`parameter /inv ${AP} replica ${AP}`, `secret secrets ${AP} replica ${AP}`]);
    expect(failed[0].remediation.commands.length).toBeGreaterThan(0);
    expect(drifts(result).filter((d) => !d.includes('SCAN_FAILED'))).toEqual(SEEDED.filter((d) => d.endsWith(EU)));
    expect(result.scopes.find((s: any) => s.kind === 'secret').replicas).toEqual([
      { region: EU, status: 'read' }, { region: AP, status: 'failed', errorName: expect.any(String) },
    ]);
  });

  test('an unreadable primary makes every replica region scan-failed for that scope', async () => {
    proxy.addRule({ region: PRIMARY, service: 'ssm', fault: 'server-error' });
    const result = await createHandler(env())({ action: 'manual_check' });
    const failed = result.drifts.filter((d: any) => d.driftType === 'SCAN_FAILED');
    expect(failed.map((d: any) => `${d.name} ${d.replicaRegion} ${d.failure.location} ${d.failure.region}`).sort())
      .toEqual([`/inv ${AP} primary ${PRIMARY}`, `/inv ${EU} primary ${PRIMARY}`]);
  });
});

describe('auto-remediation', () => {
  test('dry run reports what it would repair and changes nothing', async () => {
    const before = await snapshotReplicas();
    const result = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'DRY_RUN' }))({ action: 'manual_check' });
    const statuses = Object.fromEntries(result.drifts.map((d: any) => [`${d.name} ${d.driftType} ${d.replicaRegion}`, d.autoRemediation.status]));
    expect(statuses).toEqual({
      [`inv/s001 MISSING_IN_REPLICA ${EU}`]: 'would-repair',
      [`inv/s002 VALUE_MISMATCH ${AP}`]: 'would-repair',
      [`inv/s003 METADATA_MISMATCH ${EU}`]: 'would-repair',
      [`inv/s004 METADATA_MISMATCH ${AP}`]: 'would-repair',
      [`inv/s005 VALUE_MISMATCH ${EU}`]: 'would-repair',
      [`inv/zz-extra EXTRA_IN_REPLICA ${AP}`]: 'not-remediable',
      [`/inv/p001 MISSING_IN_REPLICA ${EU}`]: 'would-repair',
      [`/inv/p002 VALUE_MISMATCH ${EU}`]: 'would-repair',
      [`/inv/p003 METADATA_MISMATCH ${EU}`]: 'would-repair',
      [`/inv/zz-extra EXTRA_IN_REPLICA ${EU}`]: 'not-remediable',
    });
    expect(await snapshotReplicas()).toEqual(before);
  });

  test('repairs exactly the drifted items; a second scan finds only what it must not touch', async () => {
    const untouched = await snapshotReplicas([secretName(100), secretName(12)], [parameterName(100), parameterName(10)]);
    const result = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'APPLY' }))({ action: 'manual_check' });
    expect(result.summary.remediated).toBe(8);
    expect(result.summary.remediationFailures).toBe(0);

    for (const [name, region] of [[secretName(1), EU], [secretName(2), AP], [secretName(5), EU]]) await world.expectSameValue(name, PRIMARY, region);
    expect((await world.describe(EU, secretName(3)))?.KmsKeyId).toBe(euKey);
    expect((await world.tags(AP, secretName(4))).team).toBe('payments');
    for (const i of [1, 2]) {
      expect((await world.parameter(EU, parameterName(i)))?.value).toBe((await world.parameter(PRIMARY, parameterName(i)))?.value);
    }
    expect((await world.parameter(EU, parameterName(3)))?.type).toBe('String');
    // Items in sync, ignored or only in a replica are left alone.
    expect(await snapshotReplicas([secretName(100), secretName(12)], [parameterName(100), parameterName(10)])).toEqual(untouched);
    expect(await world.describe(AP, 'inv/zz-extra')).toBeDefined();

    const after = await createHandler(env())({ action: 'manual_check' });
    expect(drifts(after)).toEqual([`parameter /inv/zz-extra EXTRA_IN_REPLICA ${EU}`, `secret inv/zz-extra EXTRA_IN_REPLICA ${AP}`]);
  });

  test('a repaired secret carries the replicator\'s provenance tags, so the replicator sees it in sync', async () => {
    const tags = await world.tags(EU, secretName(1));
    expect(tags['cross-region-config:source-region']).toBe(PRIMARY);
    // The copied primary version is in the replica's version id: <primary version>.<stamp><nonce>.<mac>
    const stages = (await world.describe(EU, secretName(1)))?.VersionIdsToStages ?? {};
    const current = Object.keys(stages).find((v) => stages[v].includes('AWSCURRENT'));
    expect(current).toMatch(/^[A-Za-z0-9-]+\.[0-9a-z]{13}\.[0-9a-f]{12}$/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const replicator = require('../../lambda-src/secret-replicator/handler').createHandler({
      ...process.env,
      PRIMARY_REGION: PRIMARY,
      REPLICA_TARGETS: JSON.stringify([{ region: EU, kmsKeyId: euKey }]),
      SECRET_SELECTION: JSON.stringify({ rules: [{ names: [secretName(1)] }] }),
      PROVENANCE_KEY_SECRET_ARN: provenanceKeyArn,
    });
    const summary = await replicator({ action: 'test_sync' });
    expect(summary.outcomes).toEqual({ 'in-sync': 1 });
  });
});

describe('invocations', () => {
  test('rejects an unknown action without echoing the payload', async () => {
    await expect(createHandler(env())({ action: 'delete_everything', secret: 'hunter2-Zq9' }))
      .rejects.toThrow('unknown action "delete_everything"; expected one of manual_check, scheduled_check');
  });

  test('fails at cold start naming a malformed variable', () => {
    expect(() => createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'SOMETIMES' })))
      .toThrow('environment variable REMEDIATION_MODE must be one of OFF, DRY_RUN, APPLY, but got "SOMETIMES"');
    expect(() => createHandler(env({ [DriftEnv.REPORT_BUCKET]: '' }))).toThrow('environment variable REPORT_BUCKET is required but not set');
  });
});

/**
 * The stacks that deploy the configurations the tests above run the handlers with: every call must
 * be allowed by its role's synthesized policies (test/harness/iam-evaluation.ts says which
 * authorizations AWS implies and how they are mapped).
 */
function deployedConfigurations(calls: RecordedCall[]): EvaluationGroup[] {
  const detectorStack = (remediation: DriftRemediation, scope: { secrets?: SecretSelection; parameterPaths: string[] }) => {
    const app = new App();
    const stack = new Stack(app, 'IamEvaluation', { env: { account: '123456789012', region: PRIMARY } });
    const detector = new ConfigDriftDetector(stack, 'Detector', {
      ...scope,
      replicaRegions: REPLICAS,
      replicaKmsKeys: [{ region: EU, keyArn: euKey }],
      comparedTagKeys: ['team'],
      reportExtraItems: true,
      reportBucket: s3.Bucket.fromBucketName(stack, 'Reports', BUCKET),
      reportPrefix: 'drift-reports/',
      autoRemediation: remediation,
    });
    const references: Record<string, string> = detector.provenanceKey
      ? { [stack.getLogicalId(detector.provenanceKey.node.defaultChild as CfnElement)]: provenanceKeyArn }
      : {};
    return { app, stack, role: detector.role, references };
  };
  const replicatorStack = () => {
    const app = new App();
    const stack = new Stack(app, 'IamEvaluation', { env: { account: '123456789012', region: PRIMARY } });
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.fromNames(secretName(1)),
      replicaRegions: [EU],
      replicaKmsKeys: [{ region: EU, keyArn: euKey }],
    });
    const references = { [stack.getLogicalId(replicator.provenanceKey.node.defaultChild as CfnElement)]: provenanceKeyArn };
    return { app, stack, role: replicator.role, references };
  };
  const inventory = { secrets: SecretSelection.byNamePrefix('inv/'), parameterPaths: ['/inv'] };
  const groups = [
    { role: 'secret replicator (checks a repaired secret)', build: replicatorStack, tests: (t: string) => t.startsWith('auto-remediation a repaired secret') },
    { role: 'drift detector (APPLY)', build: () => detectorStack(DriftRemediation.APPLY, inventory), tests: (t: string) => t.startsWith('auto-remediation') },
    {
      role: 'drift detector (grace window, parameters only)',
      build: () => detectorStack(DriftRemediation.OFF, { parameterPaths: ['/grace'] }),
      tests: (t: string) => t.startsWith('grace window'),
    },
    { role: 'drift detector', build: () => detectorStack(DriftRemediation.OFF, inventory), tests: () => true },
  ];
  const claimed = new Set<RecordedCall>();
  return groups.map((group) => {
    const { app, stack, role, references } = group.build();
    const own = calls.filter((c) => !claimed.has(c) && group.tests(c.test ?? ''));
    own.forEach((c) => claimed.add(c));
    return {
      role: group.role,
      calls: own,
      target: {
        template: app.synth().getStackByName(stack.stackName).template,
        roleLogicalId: stack.getLogicalId(role.node.defaultChild as CfnElement),
        references,
        region: PRIMARY,
      },
    };
  });
}

describe('IAM', () => {
  test('every call the handlers made is allowed by the synthesized role policies of their configuration', async () => {
    const calls = await recorder.calls();
    expect(calls.length).toBeGreaterThan(100);
    await recorder.writeJsonLines(`${process.env.IAM_RECORDING_DIR ?? tmpdir()}/iam-calls-drift-detector.jsonl`);
    const { summary, failures } = await evaluateGroups(deployedConfigurations(calls));
    output.stop();
    console.log([...summary, ...failures.map((f) => `  ${f}`)].join('\n'));
    output.start();
    expect(failures).toEqual([]);
  }, 300_000);
});

describe('no value leaks', () => {
  test('no secret or parameter value appears in any log line, metric, result or report', async () => {
    const reports: string[] = [];
    for (const key of await world.keys(PRIMARY, BUCKET, 'drift-reports/')) reports.push(await world.objectText(PRIMARY, BUCKET, key));
    const haystacks = [...output.lines, ...results, ...reports];
    expect(haystacks.length).toBeGreaterThan(20);
    const leaks = world.issuedValues.filter((v) => haystacks.some((h) => h.includes(v)));
    expect(leaks.length).toBe(0);
  });
});

/** Current value tokens (version ids, never values) and parameter versions of some replicas. */
async function snapshotReplicas(
  secrets = [1, 2, 3, 4, 5].map(secretName), parameters = [1, 2, 3].map(parameterName),
): Promise<Record<string, unknown>> {
  const snapshot: Record<string, unknown> = {};
  for (const region of REPLICAS) {
    for (const name of secrets) {
      const d = await world.describe(region, name);
      snapshot[`${region} ${name}`] = d ? { versions: d.VersionIdsToStages, key: d.KmsKeyId, tags: d.Tags?.length } : undefined;
    }
    for (const name of parameters) {
      const p = await world.ssm(region).send(new GetParametersCommand({ Names: [name] }));
      snapshot[`${region} ${name}`] = p.Parameters?.[0] ? { version: p.Parameters[0].Version, type: p.Parameters[0].Type } : undefined;
    }
  }
  return snapshot;
}
