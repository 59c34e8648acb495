/**
 * The replicator and drift detector part of the Quick start demo: both handlers' real bundles (the
 * Lambda assets from the synthesized cloud assembly, with their synthesized environments) run end
 * to end against moto server. Secret and parameter values are never printed: only names, versions,
 * HMAC-prefixed provenance, drift findings, report locations and timings.
 */
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ParameterType } from '@aws-sdk/client-ssm';
import {
  bundleOf, cfnProperties, Demo, describeFunction, elapsed, invokeRecorded, logicalId, metricSum, step, synthesizedEnvironment,
} from './support';
import { DriftEnv } from '../../src/drift-detector/contract';
import { ProvenanceTag, REPLICA_REGION_DIMENSION, ReplicatorMetric } from '../../src/secret-replicator/contract';
import { reportSchemaErrors } from '../drift-detector/world';
import { cloudTrailEvent } from '../harness/world';
import { EXAMPLE_PARAMETER_PATH } from '../integ/integ.config-drift-detector';
import { EXAMPLE_PRIMARY, EXAMPLE_REPLICAS } from '../integ/integ.secret-replicator';

export const SECRET = 'prod/app/database';
/** Parameters the demo writes under the detector's path in every region: name suffix and type. */
export const PARAMETERS: Array<[string, ParameterType]> = [['feature-flags', 'String'], ['db/pool-size', 'String'], ['api/signing-key', 'SecureString']];

/** Where the drift detector put its reports in the emulator. */
export interface DriftFacts {
  /** The bucket standing in for the stack's report bucket. */
  readonly bucket: string;
  /** Every report location the scans returned (`s3://bucket/key`), in order. */
  readonly reportLocations: string[];
}

/** Runs the replicator, then the drift detector, against the emulator. */
export async function runReplicatorAndDetector(demo: Demo): Promise<DriftFacts> {
  const { config: stack, configResources: resources, world } = demo;

  // The functions' environments and code exactly as synthesized.
  const fn = cfnProperties(resources, stack.replicator.handler);
  const bundle = bundleOf(demo.outdir, stack, fn);
  const detectorFn = cfnProperties(resources, stack.detector.handler);
  const detectorBundle = bundleOf(demo.outdir, stack, detectorFn);

  step('Secret replicator: the function as synthesized, its KMS alias and provenance key');
  console.log(`  ${describeFunction('replicator', fn, bundle, demo.outdir)}`);
  console.log(`  ${describeFunction('drift detector', detectorFn, detectorBundle, demo.outdir)}`);
  const kms = new KMSClient({ region: 'eu-west-1', endpoint: demo.motoEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const key = await kms.send(new CreateKeyCommand({ Description: 'app secrets (eu-west-1)' }));
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/app-secrets', TargetKeyId: key.KeyMetadata!.KeyId }));
  const keyArn = await world.create(EXAMPLE_PRIMARY, 'demo/provenance-key', world.newValue('provenance-key-material-0123456789abcdef0123456789abcdef'));
  console.log('  KMS alias/app-secrets created in eu-west-1; a provenance key stands in for the stack\'s generated secret');

  // The environment as synthesized; the provenance key ARN is a deploy-time reference.
  const provenanceKeyId = logicalId(stack.replicator.provenanceKey);
  demo.refs[provenanceKeyId] = keyArn;
  const env: NodeJS.ProcessEnv = { ...demo.awsEnv, ...synthesizedEnvironment(fn, demo.refs) };
  // The settings parameter's name (the drift detector never compares it) is a Ref to it: its name.
  if (stack.replicator.configParameter && env.CONFIG_PARAMETER_NAME) {
    demo.refs[logicalId(stack.replicator.configParameter)] = env.CONFIG_PARAMETER_NAME;
  }
  // The cross-region-config document as CloudFormation would create it, so the handler can keep
  // its lastSyncTimestamp current.
  const documentName = env.CONFIG_PARAMETER_NAME;
  const lastSync = async () => documentName ? JSON.parse((await world.parameter(EXAMPLE_PRIMARY, documentName))?.value ?? '{}').lastSyncTimestamp : undefined;
  if (documentName) {
    const document = Object.values(resources).find((r: any) => r.Type === 'AWS::SSM::Parameter' && r.Properties.Name === documentName) as any;
    await world.putParameter(EXAMPLE_PRIMARY, documentName, document.Properties.Value);
    console.log(`  ${documentName} created as synthesized; lastSyncTimestamp ${JSON.stringify(await lastSync())}`);
  }

  const invoke = async (label: string, payload: unknown): Promise<any> => {
    const started = process.hrtime.bigint();
    const { result, error } = await invokeRecorded(demo, bundle, env, payload);
    if (error !== undefined) {
      console.log(`${label}: invocation failed in ${elapsed(started)}: "${error}" (Lambda retries it, then dead-letters it)`);
      return undefined;
    }
    const what = result.outcomes ? JSON.stringify(result.outcomes)
      : (result.regions as any[]).map((r) => `${r.region} ${r.reachable ? 'reachable' : 'UNREACHABLE'} (${r.checks.filter((c: any) => c.ok).length}/${r.checks.length} checks ok)`).join('; ');
    console.log(`${label}: ${what} in ${elapsed(started)} (cold start included)`);
    return result;
  };
  const show = async () => {
    for (const region of EXAMPLE_REPLICAS) {
      const d = await world.describe(region, SECRET);
      const tags = await world.tags(region, SECRET);
      const current = Object.entries(d?.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      // The replica's version id carries the copied primary version: <primary version>.<stamp><nonce>.<mac>
      console.log(`  ${region}: version ${current?.slice(0, 8)}…${current?.slice(-12)}, kms ${tags[ProvenanceTag.KMS_KEY]}, source version ${current?.split('.')[0].slice(0, 8)}…`);
    }
  };

  step(`Writing ${SECRET} in the primary region and delivering its CloudTrail event`);
  const arn = await world.create(EXAMPLE_PRIMARY, SECRET, world.newValue('db'), { description: 'application database', tags: { team: 'payments' } });
  console.log(`  ${EXAMPLE_PRIMARY}: created ${arn}`);
  await invoke('CreateSecret event', cloudTrailEvent('CreateSecret', arn));
  if (documentName) console.log(`  ${documentName}: lastSyncTimestamp ${JSON.stringify(await lastSync())} (every region agrees)`);
  await show();
  await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
  console.log('  values match in every region (compared in memory, not shown)');

  step('Rotating the value in the primary region');
  await world.client(EXAMPLE_PRIMARY).send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('db-rotated') }));
  await invoke('PutSecretValue event', cloudTrailEvent('PutSecretValue', SECRET));
  await invoke('the same event delivered twice', cloudTrailEvent('PutSecretValue', SECRET));
  await show();

  step('Someone edits the replica in ap-southeast-2 directly: a conflict');
  await world.client('ap-southeast-2').send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('local-edit') }));
  await invoke('scheduled reconcile (primary wins)', { action: 'reconcile' });
  await show();
  await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
  const conflicts = metricSum(demo.logLines, ReplicatorMetric.CONFLICTS, REPLICA_REGION_DIMENSION, 'ap-southeast-2');
  console.log(`  conflict resolved: the replica holds the primary value again; Conflicts{ReplicaRegion=ap-southeast-2} = ${conflicts}`);

  step('A replica region becomes unreachable, then recovers');
  demo.proxy.addRule({ region: 'eu-west-1', fault: 'connection-refused' });
  await world.client(EXAMPLE_PRIMARY).send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('db-v3') }));
  await invoke('PutSecretValue event during the outage', cloudTrailEvent('PutSecretValue', SECRET)).catch(() => undefined);
  demo.proxy.clearRules();
  await invoke('next scheduled reconcile', { action: 'reconcile' });
  await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
  console.log('  every region converged');

  step('Operator checks');
  await invoke('{"action":"connectivity_test"}', { action: 'connectivity_test' });
  await invoke('{"action":"test_sync"} (dry run)', { action: 'test_sync' });

  // The drift detector: its real bundle with its synthesized environment, on the same emulator.
  const detector = stack.detector;
  step('Drift detector: the function as synthesized, its report bucket and a few parameters in every region');
  // The report bucket's name is generated by CloudFormation at deploy time: stand in with a similar one.
  const bucketId = logicalId(detector.reportBucket);
  const bucket = `${stack.stackName}-${bucketId}-demo`.toLowerCase();
  await world.createBucket(EXAMPLE_PRIMARY, bucket);
  demo.refs[bucketId] = bucket;
  const synthesized = synthesizedEnvironment(detectorFn, demo.refs);
  const detectorEnv: NodeJS.ProcessEnv = { ...demo.awsEnv, ...synthesized };
  console.log(`  environment as synthesized: ${DriftEnv.REMEDIATION_MODE}=${synthesized[DriftEnv.REMEDIATION_MODE]}, `
    + `${DriftEnv.GRACE_WINDOW_SECONDS}=${synthesized[DriftEnv.GRACE_WINDOW_SECONDS]}, ${DriftEnv.PARAMETER_PATHS}=${synthesized[DriftEnv.PARAMETER_PATHS]}, `
    + `${DriftEnv.SECRET_SELECTION}=${synthesized[DriftEnv.SECRET_SELECTION]}`);
  console.log(`  ${DriftEnv.REPORT_BUCKET} (Ref ${bucketId}) -> bucket ${bucket} created in ${EXAMPLE_PRIMARY}; `
    + `${DriftEnv.PROVENANCE_KEY_SECRET_ARN} -> the replicator's provenance key`);
  const parameterNames = PARAMETERS.map(([suffix]) => `${EXAMPLE_PARAMETER_PATH}/${suffix}`);
  for (const [i, [suffix, type]] of PARAMETERS.entries()) {
    const value = world.newValue(suffix.replace(/\W/g, '-'));
    for (const region of [EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS]) await world.putParameter(region, parameterNames[i], value, type);
  }
  console.log(`  ${parameterNames.length} parameters (${PARAMETERS.map(([, t]) => t).join(', ')}) written with the same values in ${[EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS].join(', ')}`);

  const reportLocations: string[] = [];
  const scan = async (label: string, scanEnv: NodeJS.ProcessEnv): Promise<any> => {
    const started = process.hrtime.bigint();
    const { result, error } = await invokeRecorded(demo, detectorBundle, scanEnv, { action: 'manual_check' });
    if (error !== undefined) throw new Error(`${label}: the drift scan failed: ${error}`);
    const s = result.summary;
    const found = s.driftCount === 0 ? 'no drift' : `${s.driftCount} drift${s.driftCount === 1 ? '' : 's'}`;
    const remediation = scanEnv[DriftEnv.REMEDIATION_MODE] === 'APPLY' ? `; ${s.remediated} repaired, ${s.remediationFailures} failed` : '';
    console.log(`${label}: ${found} (${s.itemsCompared} comparisons, ${s.itemsDeferred} deferred${remediation}) in ${elapsed(started)} (cold start included)`);
    if (result.reportLocation) reportLocations.push(result.reportLocation);
    return result;
  };
  const printDrifts = (result: any) => {
    for (const d of result.drifts) {
      console.log(`  ${d.kind} ${d.name}: ${d.driftType} in ${d.replicaRegion}; auto-remediation ${d.autoRemediation?.status ?? 'off'}`);
      for (const command of d.remediation.commands) console.log(`    fix: ${command}`);
    }
  };
  const readReport = async (location: string) => {
    const [, reportBucket, reportKey] = /^s3:\/\/([^/]+)\/(.+)$/.exec(location)!;
    const body = await world.objectText(EXAMPLE_PRIMARY, reportBucket, reportKey);
    demo.outputs.push(body);
    const report = JSON.parse(body);
    const errors = reportSchemaErrors(report);
    console.log(`  report ${location}: ${Buffer.byteLength(body)} bytes read back from S3, schema version ${report.schemaVersion}, `
      + `${report.drifts.length} drift(s), ${errors.length === 0 ? 'valid against schemas/drift-report.schema.json' : `INVALID: ${errors.join('; ')}`}`);
    if (errors.length > 0) process.exitCode = 1;
  };

  step('Drift scan with the synthesized environment: {"action":"manual_check"}');
  const first = await scan('manual_check (grace window 600 s)', detectorEnv);
  for (const d of first.deferred) console.log(`  deferred: ${d.kind} ${d.name}, changed in ${EXAMPLE_PRIMARY} at ${d.changedAt}, rechecked after ${d.recheckAfter}`);
  if (first.deferred.length > 0) {
    console.log(`  items changed in the primary in the last ${synthesized[DriftEnv.GRACE_WINDOW_SECONDS]} s are not compared yet (replication may still be in flight); `
      + 'the demo wrote all of them seconds ago.');
  }
  // moto cannot age items: scan as the detector would ten minutes later.
  const later: NodeJS.ProcessEnv = { ...detectorEnv, [DriftEnv.GRACE_WINDOW_SECONDS]: '0' };
  console.log(`  the emulator cannot age items, so the following scans set ${DriftEnv.GRACE_WINDOW_SECONDS}=0: what the deployed detector sees once the window has passed`);

  step('Drift scan once the grace window has passed: every region in sync');
  const inSync = await scan('manual_check', later);
  if (inSync.summary.driftCount !== 0) throw new Error('expected no drift before the replicas are edited');
  await readReport(inSync.reportLocation);

  step(`Someone edits ${SECRET} in eu-west-1 and ${parameterNames[0]} in ap-southeast-2 directly; the next scan finds it`);
  await world.client('eu-west-1').send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('eu-local-edit') }));
  await world.putParameter('ap-southeast-2', parameterNames[0], world.newValue('ap-local-edit'), PARAMETERS[0][1]);
  const drifted = await scan(`manual_check (${synthesized[DriftEnv.REMEDIATION_MODE]})`, later);
  printDrifts(drifted);
  await readReport(drifted.reportLocation);

  step('Auto-remediation: the same scan with REMEDIATION_MODE=APPLY');
  console.log('  (deployed, APPLY needs the detector synthesized with autoRemediation: DriftRemediation.APPLY, which adds the replica write permissions)');
  const applyEnv: NodeJS.ProcessEnv = { ...later, [DriftEnv.REMEDIATION_MODE]: 'APPLY' };
  const repaired = await scan('manual_check (APPLY)', applyEnv);
  for (const d of repaired.drifts) {
    console.log(`  ${d.kind} ${d.name} in ${d.replicaRegion}: ${d.autoRemediation?.status}${d.autoRemediation?.errorName ? ` (${d.autoRemediation.errorName})` : ''}`);
  }
  await readReport(repaired.reportLocation);
  await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
  for (const name of parameterNames) {
    const primaryValue = (await world.parameter(EXAMPLE_PRIMARY, name))?.value;
    for (const region of EXAMPLE_REPLICAS) {
      if ((await world.parameter(region, name))?.value !== primaryValue) throw new Error(`value of ${name} in ${region} differs from ${EXAMPLE_PRIMARY} (values not shown)`);
    }
  }
  console.log('  repaired: values match in every region again (compared in memory, not shown); the secret replica carries the replicator\'s provenance:');
  await show();

  step('Drift scan after the repair');
  const afterRepair = await scan('manual_check', later);
  if (afterRepair.summary.driftCount !== 0) throw new Error('expected no drift after auto-remediation');
  await readReport(afterRepair.reportLocation);

  return { bucket, reportLocations };
}
