/**
 * The Quick start main job: synthesizes the example three-region app (secret replicator and
 * configuration drift detector), then runs both handlers' real bundles (the Lambda assets from the
 * synthesized cloud assembly, with their synthesized environments) end to end against moto server,
 * printing what happens. Secret and parameter values are never printed: only names, versions,
 * HMAC-prefixed provenance, drift findings, report locations and timings.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ParameterType } from '@aws-sdk/client-ssm';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { DriftEnv } from '../../src/drift-detector/contract';
import { ProvenanceTag, REPLICA_REGION_DIMENSION, ReplicatorEnv, ReplicatorMetric } from '../../src/secret-replicator/contract';
import { ConfigWorld, reportSchemaErrors } from '../drift-detector/world';
import { startFaultProxy } from '../harness/fault-proxy';
import { startMotoServer } from '../harness/moto';
import { cloudTrailEvent } from '../harness/world';
import { buildConfigExampleApp, EXAMPLE_PARAMETER_PATH } from '../integ/integ.config-drift-detector';
import { EXAMPLE_PRIMARY, EXAMPLE_REPLICAS } from '../integ/integ.secret-replicator';

const SECRET = 'prod/app/database';
/** Parameters the demo writes under the detector's path in every region: name suffix and type. */
const PARAMETERS: Array<[string, ParameterType]> = [['feature-flags', 'String'], ['db/pool-size', 'String'], ['api/signing-key', 'SecureString']];

type CfnResources = Record<string, { Type: string; Properties?: any }>;

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function elapsed(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`;
}

/** Sums one metric over the EMF documents in `lines` for one replica region. */
function metricSum(lines: string[], name: string, region: string): number {
  return lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l))
    .filter((doc) => doc[REPLICA_REGION_DIMENSION] === region && typeof doc[name] === 'number')
    .reduce((sum, doc) => sum + doc[name], 0);
}

/** The synthesized properties of the CloudFormation resource behind `construct`. */
function cfnProperties(stack: Stack, resources: CfnResources, construct: Construct): any {
  return resources[stack.getLogicalId(construct.node.defaultChild as any)].Properties;
}

/** The handler bundle of a synthesized function: its asset (by the hash in its S3 key) in the cloud assembly. */
function bundleOf(assemblyDir: string, stack: Stack, fn: any): string {
  const hash = String(fn.Code.S3Key).replace(/\.zip$/, '');
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, `${stack.artifactId}.assets.json`), 'utf8'));
  return path.join(assemblyDir, manifest.files[hash].source.path, 'index.js');
}

/**
 * A function's environment as synthesized: literal values as they are; deploy-time references
 * (`{"Ref": logicalId}`) replaced by what the demo created in the emulator in their place. Any other
 * unresolved value fails, so the demo never runs with an environment the stack would not give.
 */
function synthesizedEnvironment(fn: any, refs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.Environment.Variables as Record<string, unknown>)) {
    const ref = (value as { Ref?: string })?.Ref;
    if (typeof value === 'string') env[name] = value;
    else if (ref !== undefined && refs[ref] !== undefined) env[name] = refs[ref];
    else throw new Error(`${name} is a deploy-time value the demo does not stand in for: ${JSON.stringify(value)}`);
  }
  return env;
}

/**
 * Runs one invocation of a handler bundle in a fresh Node process, as a Lambda cold start would:
 * the handler's stdout (its JSON logs and EMF documents) and its result or error message.
 */
async function runBundle(bundle: string, env: NodeJS.ProcessEnv, payload: unknown): Promise<{ logs: string[]; result?: any; error?: string }> {
  const script = `require(${JSON.stringify(bundle)}).handler(${JSON.stringify(payload)})
    .then((r) => process.stderr.write('RESULT' + JSON.stringify(r) + '\\n'), (e) => { process.stderr.write('ERROR' + e.message + '\\n'); process.exitCode = 1; });`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { env, maxBuffer: 64 * 1024 * 1024 })
    .catch((e: { stdout: string; stderr: string }) => e);
  const logs = stdout.split('\n').filter(Boolean);
  const line = stderr.split('\n').find((l) => l.startsWith('RESULT') || l.startsWith('ERROR'));
  if (line === undefined) throw new Error(`the handler process ended without a result: ${stderr.slice(-2000)}`);
  return line.startsWith('ERROR') ? { logs, error: line.slice('ERROR'.length) } : { logs, result: JSON.parse(line.slice('RESULT'.length)) };
}

async function main() {
  // 1. Synthesize the example app.
  step('Synthesizing the example three-region app');
  const t0 = process.hrtime.bigint();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'crc-demo-'));
  const { app, stack } = buildConfigExampleApp(outdir);
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as CfnResources;
  const counts: Record<string, number> = {};
  for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  console.log(`stack ${stack.stackName} (${EXAMPLE_PRIMARY} -> ${EXAMPLE_REPLICAS.join(', ')}) synthesized in ${elapsed(t0)} to ${outdir}`);
  for (const [type, n] of Object.entries(counts).sort()) console.log(`  ${String(n).padStart(2)} x ${type}`);

  // The functions' environments and code exactly as synthesized.
  const fn = cfnProperties(stack, resources, stack.replicator.handler);
  const bundle = bundleOf(assembly.directory, stack, fn);
  const detectorFn = cfnProperties(stack, resources, stack.detector.handler);
  const detectorBundle = bundleOf(assembly.directory, stack, detectorFn);
  for (const [name, f, b] of [['replicator', fn, bundle], ['drift detector', detectorFn, detectorBundle]]) {
    console.log(`${name} handler: ${f.Runtime} on ${f.Architectures.join(',')}, ${f.MemorySize} MB, ${f.Timeout} s; bundle ${(fs.statSync(b).size / 1024).toFixed(0)} KiB at ${path.relative(outdir, b)}`);
  }

  // 2. A local AWS: moto server behind the fault-injecting proxy.
  step('Starting the local AWS emulator (moto server, one process for every region)');
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  try {
    const world = new ConfigWorld(moto.endpoint);
    const kms = new KMSClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const key = await kms.send(new CreateKeyCommand({ Description: 'app secrets (eu-west-1)' }));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app-secrets', TargetKeyId: key.KeyMetadata!.KeyId }));
    const keyArn = await world.create(EXAMPLE_PRIMARY, 'demo/provenance-key', world.newValue('provenance-key-material-0123456789abcdef0123456789abcdef'));
    console.log(`moto at ${moto.endpoint}; KMS alias/app-secrets created in eu-west-1; provenance key stands in for the stack's generated secret`);

    // The environment as synthesized; the provenance key ARN is a deploy-time reference.
    const awsEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: EXAMPLE_PRIMARY,
    };
    const provenanceKeyId = stack.getLogicalId(stack.replicator.provenanceKey.node.defaultChild as any);
    const env: NodeJS.ProcessEnv = { ...awsEnv, ...synthesizedEnvironment(fn, { [provenanceKeyId]: keyArn }) };

    const logLines: string[] = [];
    /** Results and report bodies: scanned for values at the end, like the logs. */
    const outputs: string[] = [];
    const invoke = async (label: string, payload: unknown): Promise<any> => {
      const started = process.hrtime.bigint();
      const { logs, result, error } = await runBundle(bundle, env, payload);
      logLines.push(...logs);
      if (error !== undefined) {
        console.log(`${label}: invocation failed in ${elapsed(started)}: "${error}" (Lambda retries it, then dead-letters it)`);
        return undefined;
      }
      outputs.push(JSON.stringify(result));
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
        console.log(`  ${region}: version ${current?.slice(0, 8)}…, kms ${tags[ProvenanceTag.KMS_KEY]}, content-hmac ${tags[ProvenanceTag.CONTENT_HMAC]?.slice(0, 12)}…, source version ${tags[ProvenanceTag.SOURCE_VERSION_ID]?.slice(0, 8)}…`);
      }
    };

    step(`Writing ${SECRET} in the primary region and delivering its CloudTrail event`);
    const arn = await world.create(EXAMPLE_PRIMARY, SECRET, world.newValue('db'), { description: 'application database', tags: { team: 'payments' } });
    console.log(`  ${EXAMPLE_PRIMARY}: created ${arn}`);
    await invoke('CreateSecret event', cloudTrailEvent('CreateSecret', arn));
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
    const conflicts = metricSum(logLines, ReplicatorMetric.CONFLICTS, 'ap-southeast-2');
    console.log(`  conflict resolved: the replica holds the primary value again; Conflicts{ReplicaRegion=ap-southeast-2} = ${conflicts}`);

    step('A replica region becomes unreachable, then recovers');
    proxy.addRule({ region: 'eu-west-1', fault: 'connection-refused' });
    await world.client(EXAMPLE_PRIMARY).send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('db-v3') }));
    await invoke('PutSecretValue event during the outage', cloudTrailEvent('PutSecretValue', SECRET)).catch(() => undefined);
    proxy.clearRules();
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
    const bucketId = stack.getLogicalId(detector.reportBucket.node.defaultChild as any);
    const bucket = `${stack.stackName}-${bucketId}-demo`.toLowerCase();
    await world.createBucket(EXAMPLE_PRIMARY, bucket);
    const synthesized = synthesizedEnvironment(detectorFn, { [bucketId]: bucket, [provenanceKeyId]: keyArn });
    const detectorEnv: NodeJS.ProcessEnv = { ...awsEnv, ...synthesized };
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

    const scan = async (label: string, scanEnv: NodeJS.ProcessEnv): Promise<any> => {
      const started = process.hrtime.bigint();
      const { logs, result, error } = await runBundle(detectorBundle, scanEnv, { action: 'manual_check' });
      logLines.push(...logs);
      if (error !== undefined) throw new Error(`${label}: the drift scan failed: ${error}`);
      outputs.push(JSON.stringify(result));
      const s = result.summary;
      const found = s.driftCount === 0 ? 'no drift' : `${s.driftCount} drift${s.driftCount === 1 ? '' : 's'}`;
      const remediation = scanEnv[DriftEnv.REMEDIATION_MODE] === 'APPLY' ? `; ${s.remediated} repaired, ${s.remediationFailures} failed` : '';
      console.log(`${label}: ${found} (${s.itemsCompared} comparisons, ${s.itemsDeferred} deferred${remediation}) in ${elapsed(started)} (cold start included)`);
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
      outputs.push(body);
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

    const alarms = detector.alarms.map((a) => a.node.id).join(', ');
    console.log(`\nDrift reports: s3://${bucket}/${detector.reportPrefix} (a dated key per scan, and latest.json); `
      + `in AWS the bucket is ${stack.stackName}'s ${detector.reportBucket.node.path}.`);
    console.log(`Dashboard (the construct creates none; graph these): metrics DriftCount and HasDrift (per ResourceType and ReplicaRegion) in CloudWatch namespace ${detector.metricNamespace}, `
      + `dimension service=${detector.serviceName}; alarms ${alarms} notify ${stack.alerts.node.path}; `
      + `settings document at ${cfnProperties(stack, resources, detector.configParameter!).Name}.`);

    const emf = logLines.filter((l) => l.includes('"_aws"')).length;
    const leaked = world.issuedValues.filter((v) => [...logLines, ...outputs].some((l) => l.includes(v))).length;
    console.log(`\nDone: ${proxy.stats().forwarded} AWS API calls served; ${logLines.length} handler log lines (${emf} EMF metric documents), `
      + `${outputs.length} results and reports scanned, ${leaked} secret or parameter values found in them.`);
    console.log(`In AWS the same bundles run as ${fn.Runtime}; the replicator's metrics land in CloudWatch namespace ${env[ReplicatorEnv.METRIC_NAMESPACE]} `
      + 'and its Parameter Store document at /genai-demo/production/global/secrets/cross-region-config.');
    if (leaked > 0) process.exitCode = 1;

  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
