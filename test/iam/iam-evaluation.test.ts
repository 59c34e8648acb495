/**
 * Offline IAM evaluation of the synthesized policies against requests the integration suites cannot
 * make against the emulator: the negative set of each construct (other names and paths, other
 * regions, other deployments' replicas, other records of the zone, direct KMS use), which must be
 * denied, and the requests of configurations no suite runs (a replicator whose replicas do not carry
 * the primary's tags, a ConfigMap-syncer key used through Parameter Store, a blue-green pipeline's
 * Route 53 switch and encrypted notification topic), which must be allowed.
 *
 * The recorded calls of the handlers are evaluated in their integration suites
 * (test/secret-replicator/handler.integ.test.ts, test/drift-detector/handler.integ.test.ts);
 * test/harness/iam-evaluation.ts says which authorizations AWS implies and how the simulator is fed.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  ConfigDriftDetector, CrossRegionConfigManagement, CrossRegionSecretReplicator, DeploymentStrategy, DriftRemediation, HealthCheck,
  MultiRegionPipeline, SecretSelection, TrafficSwitch,
} from '../../src';
import { ProvenanceTag } from '../../src/secret-replicator/contract';
import { Authorization, evaluate, formatSummary, negative, scenario } from '../harness/iam-evaluation';
import { MOTO_ACCOUNT } from '../harness/iam-recorder';
import { minimalProps } from '../multi-region-pipeline/util';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const ELSEWHERE = 'us-west-2';
const OTHER_DEPLOYMENT = 'OtherStack.c8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

const secret = (region: string, name: string) => `arn:aws:secretsmanager:${region}:${MOTO_ACCOUNT}:secret:${name}-AbCdEf`;
const templateKey = (region: string, logicalId: string) => `arn:aws:kms:${region}:${MOTO_ACCOUNT}:key/${logicalId}`;
const via = (service: string, region: string) => ({ 'kms:ViaService': `${service}.${region}.amazonaws.com` });

/** Every summary line, printed once at the end. */
const summaries: string[] = [];
afterAll(() => console.log(summaries.join('\n')));

/** The role's verdicts on `allowed` (each must be allowed) and `denied` (each must be denied). */
async function expectVerdicts(role: string, stack: Stack, roleOf: iam.IRole, allowed: Authorization[], denied: Authorization[]): Promise<void> {
  const template = App.of(stack)!.synth().getStackByName(stack.stackName).template;
  const target = { template, roleLogicalId: stack.getLogicalId(roleOf.node.defaultChild as CfnElement), region: stack.region };
  const positives = await evaluate(target, allowed);
  const negatives = await evaluate(target, denied);
  const deniedCount = positives.filter((r) => !r.allowed).length;
  const allowedNegatives = negatives.filter((r) => r.allowed).length;
  summaries.push(formatSummary({
    role,
    calls: 0,
    authorizations: positives.length,
    allowed: positives.length - deniedCount,
    denied: deniedCount,
    negatives: negatives.length,
    deniedAsExpected: negatives.length - allowedNegatives,
    allowedNegatives,
    skippedAssumedRole: 0,
  }));
  expect([
    ...positives.filter((r) => !r.allowed).map((r) => `denied: ${r.describe}`),
    ...negatives.filter((r) => r.allowed).map((r) => `allowed: ${r.describe}`),
    ...[...positives, ...negatives].flatMap((r) => r.ignoredContextKeys.map((k) => `ignored context key ${k} of ${r.describe}`)),
  ]).toEqual([]);
}

function pair(overrides: { replicateTags?: boolean; remediation?: DriftRemediation } = {}) {
  const app = new App();
  const stack = new Stack(app, 'IamEvaluation', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const sourceKey = new kms.Key(stack, 'SourceKey');
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
    secrets: SecretSelection.anyOf(SecretSelection.byNamePrefix('app/'), SecretSelection.byTags({ replicate: 'yes' })),
    replicaRegions: [EU, AP],
    replicaKmsKeys: [{ region: EU, keyArn: `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/11111111-2222-3333-4444-555555555555` }],
    sourceEncryptionKeys: [sourceKey],
    propagateDeletions: true,
    replicateTags: overrides.replicateTags,
  });
  const detector = new ConfigDriftDetector(stack, 'Detector', {
    replicator,
    autoRemediation: overrides.remediation ?? DriftRemediation.APPLY,
  });
  return { stack, replicator, detector, sourceKeyArn: templateKey(PRIMARY, stack.getLogicalId(sourceKey.node.defaultChild as CfnElement)) };
}

describe('secret replicator', () => {
  test('creates, updates and deletes only the replicas of its own deployment', async () => {
    const { stack, replicator, sourceKeyArn } = pair();
    const own = replicator.deploymentId!;
    expect(own).toMatch(/^IamEvaluation\.c8[0-9a-f]{40}$/);
    const ours = { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: own };
    const theirs = { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: OTHER_DEPLOYMENT, replicate: 'yes' };
    const tagged = secret(EU, 'tagged/thing');

    await expectVerdicts('replicator (tag-selected replicas)', stack, replicator.role, [
      // The first copy of a tag-selected secret, under either reading of request vs resource tags.
      scenario('DescribeSecret of a replica that does not exist yet', 'secretsmanager:DescribeSecret', tagged, EU),
      scenario('CreateSecret with its provenance tags', 'secretsmanager:CreateSecret', tagged, EU, { requestTags: { ...ours, replicate: 'yes' } }),
      scenario('the TagResource CreateSecret implies, new secret without tags', 'secretsmanager:TagResource', tagged, EU, { requestTags: { ...ours, replicate: 'yes' } }),
      scenario('the TagResource CreateSecret implies, request tags as resource tags', 'secretsmanager:TagResource', tagged, EU,
        { requestTags: { ...ours, replicate: 'yes' }, resourceTags: { ...ours, replicate: 'yes' } }),
      ...['UpdateSecret', 'TagResource', 'UntagResource', 'RestoreSecret', 'DeleteSecret', 'DescribeSecret'].map((action) =>
        scenario(`${action} on its own replica`, `secretsmanager:${action}`, tagged, AP, { resourceTags: ours })),
    ], [
      negative('CreateSecret tagged as another deployment\'s replica', 'secretsmanager:CreateSecret', tagged, EU,
        { requestTags: { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: OTHER_DEPLOYMENT } }),
      negative('CreateSecret with the source-region tag alone', 'secretsmanager:CreateSecret', tagged, EU,
        { requestTags: { [ProvenanceTag.SOURCE_REGION]: PRIMARY } }),
      negative('CreateSecret in a region that is not a replica region', 'secretsmanager:CreateSecret', secret(ELSEWHERE, 'tagged/thing'), ELSEWHERE,
        { requestTags: ours }),
      ...['UpdateSecret', 'TagResource', 'UntagResource', 'RestoreSecret', 'DeleteSecret', 'DescribeSecret', 'GetSecretValue'].map((action) =>
        negative(`${action} on another deployment's replica`, `secretsmanager:${action}`, tagged, EU,
          { resourceTags: theirs, requestTags: action === 'TagResource' ? ours : undefined })),
      negative('UpdateSecret on a secret no replicator manages', 'secretsmanager:UpdateSecret', secret(EU, 'someone/else'), EU),
      negative('UpdateSecret on its own replica in a region that is not a replica region', 'secretsmanager:UpdateSecret',
        secret(ELSEWHERE, 'tagged/thing'), ELSEWHERE, { resourceTags: ours }),
      negative('GetSecretValue of a primary secret outside the selection', 'secretsmanager:GetSecretValue', secret(PRIMARY, 'other/thing'), PRIMARY,
        { resourceTags: { replicate: 'no' } }),
      negative('GetSecretValue of a replica', 'secretsmanager:GetSecretValue', secret(EU, 'app/db'), EU, { resourceTags: ours }),
      negative('UpdateSecret of a replica outside the name prefix', 'secretsmanager:UpdateSecret', secret(EU, 'other/thing'), EU),
      negative('kms:Decrypt of the source key used directly', 'kms:Decrypt', sourceKeyArn, PRIMARY),
      negative('kms:Decrypt of the source key through Parameter Store', 'kms:Decrypt', sourceKeyArn, PRIMARY, { other: via('ssm', PRIMARY) }),
      negative('kms:Decrypt of the replica key used directly', 'kms:Decrypt',
        `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`, EU),
    ]);
  });
});

describe('drift detector', () => {
  test('reads the replicas of tag-selected secrets by provenance when replicas do not carry the primary\'s tags', async () => {
    const { stack, replicator, detector } = pair({ replicateTags: false, remediation: DriftRemediation.OFF });
    const ours = { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: replicator.deploymentId! };
    await expectVerdicts('drift detector (replicateTags: false)', stack, detector.role, [
      scenario('GetSecretValue of its replicator\'s replica without the selected tags', 'secretsmanager:GetSecretValue', secret(EU, 'tagged/thing'), EU,
        { resourceTags: ours }),
      scenario('GetSecretValue of a tag-selected primary', 'secretsmanager:GetSecretValue', secret(PRIMARY, 'tagged/thing'), PRIMARY,
        { resourceTags: { replicate: 'yes' } }),
    ], [
      negative('GetSecretValue of another deployment\'s replica', 'secretsmanager:GetSecretValue', secret(EU, 'tagged/thing'), EU,
        { resourceTags: { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: OTHER_DEPLOYMENT, replicate: 'yes' } }),
      negative('GetSecretValue of a replica-region secret tagged like the selection', 'secretsmanager:GetSecretValue', secret(EU, 'tagged/thing'), EU,
        { resourceTags: { replicate: 'yes' } }),
      negative('CreateSecret without auto-remediation', 'secretsmanager:CreateSecret', secret(EU, 'tagged/thing'), EU, { requestTags: ours }),
    ]);
  });

  test('auto-remediation writes only the replicas of its replicator\'s deployment', async () => {
    const { stack, replicator, detector, sourceKeyArn } = pair({ remediation: DriftRemediation.APPLY });
    const ours = { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: replicator.deploymentId! };
    const theirs = { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: OTHER_DEPLOYMENT, replicate: 'yes' };
    const tagged = secret(EU, 'tagged/thing');
    expect(detector.deploymentId).toBe(replicator.deploymentId);
    await expectVerdicts('drift detector (APPLY)', stack, detector.role, [
      scenario('DescribeSecret of a missing replica', 'secretsmanager:DescribeSecret', tagged, EU),
      scenario('CreateSecret of a missing replica', 'secretsmanager:CreateSecret', tagged, EU, { requestTags: ours }),
      scenario('the TagResource CreateSecret implies, new secret without tags', 'secretsmanager:TagResource', tagged, EU, { requestTags: ours }),
      scenario('the TagResource CreateSecret implies, request tags as resource tags', 'secretsmanager:TagResource', tagged, EU,
        { requestTags: ours, resourceTags: ours }),
      scenario('UpdateSecret of its replicator\'s replica', 'secretsmanager:UpdateSecret', tagged, EU, { resourceTags: ours }),
      scenario('kms:Decrypt of the source key through Secrets Manager', 'kms:Decrypt', sourceKeyArn, PRIMARY, { other: via('secretsmanager', PRIMARY) }),
    ], [
      ...['UpdateSecret', 'TagResource', 'UntagResource', 'RestoreSecret', 'GetSecretValue'].map((action) =>
        negative(`${action} on another deployment's replica`, `secretsmanager:${action}`, tagged, EU,
          { resourceTags: theirs, requestTags: action === 'TagResource' ? ours : undefined })),
      negative('CreateSecret tagged as another deployment\'s replica', 'secretsmanager:CreateSecret', tagged, EU,
        { requestTags: { [ProvenanceTag.SOURCE_REGION]: PRIMARY, [ProvenanceTag.DEPLOYMENT]: OTHER_DEPLOYMENT } }),
      negative('DeleteSecret of its replicator\'s replica (remediation never deletes)', 'secretsmanager:DeleteSecret', tagged, EU, { resourceTags: ours }),
      negative('kms:Decrypt of the source key used directly', 'kms:Decrypt', sourceKeyArn, PRIMARY),
    ]);
  });
});

describe('one-stop construct', () => {
  test('the drift detector may decrypt parameters under its paths with the key the secrets (and the syncer) use, through Parameter Store only', async () => {
    const app = new App();
    const stack = new Stack(app, 'IamEvaluation', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const secretsManagerKey = new kms.Key(stack, 'SecretsKey');
    const management = new CrossRegionConfigManagement(stack, 'Config', {
      projectName: 'genai-demo',
      environment: 'production',
      replicationRegions: [EU],
      secretsManagerKey,
      driftDetection: { parameterPaths: ['/genai-demo/config'] },
    });
    const keyArn = templateKey(PRIMARY, stack.getLogicalId(secretsManagerKey.node.defaultChild as CfnElement));
    await expectVerdicts('drift detector (one-stop)', stack, management.driftDetector!.role, [
      scenario('GetParametersByPath with decryption', 'ssm:GetParametersByPath', `arn:aws:ssm:${PRIMARY}:${MOTO_ACCOUNT}:parameter/genai-demo/config`, PRIMARY),
      scenario('kms:Decrypt of a SecureString under the path, through Parameter Store', 'kms:Decrypt', keyArn, PRIMARY,
        { other: { ...via('ssm', PRIMARY), 'kms:EncryptionContextKeys': ['PARAMETER_ARN'] } }),
      scenario('kms:Decrypt of a secret, through Secrets Manager', 'kms:Decrypt', keyArn, PRIMARY, { other: via('secretsmanager', PRIMARY) }),
    ], [
      negative('kms:Decrypt of the key used directly', 'kms:Decrypt', keyArn, PRIMARY),
      negative('kms:Decrypt of the key through Parameter Store in a replica region', 'kms:Decrypt', keyArn, EU, { other: via('ssm', EU) }),
      negative('GetParametersByPath outside the paths', 'ssm:GetParametersByPath', `arn:aws:ssm:${PRIMARY}:${MOTO_ACCOUNT}:parameter/other`, PRIMARY),
    ]);
  });
});

describe('multi-region pipeline', () => {
  function blueGreen() {
    const app = new App();
    const stack = new Stack(app, 'IamEvaluation', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
    const alertsKey = new kms.Key(stack, 'AlertsKey');
    const notificationTopic = new sns.Topic(stack, 'Alerts', { masterKey: alertsKey });
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', {
      ...minimalProps(),
      strategy: DeploymentStrategy.blueGreen({
        trafficSwitch: TrafficSwitch.route53WeightedRecords({ hostedZone: zone, recordName: 'api.{region}.example.com' }),
      }),
      healthChecks: [HealthCheck.http('https://{slot}.api.{region}.example.com/health', { name: 'api' })],
      notificationTopic,
    });
    return { stack, pipeline, alertsKeyArn: templateKey(PRIMARY, stack.getLogicalId(alertsKey.node.defaultChild as CfnElement)) };
  }
  const ZONE = 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ';
  const change = (names: string[], types: string[], actions: string[]) => ({
    other: {
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': names,
      'route53:ChangeResourceRecordSetsRecordTypes': types,
      'route53:ChangeResourceRecordSetsActions': actions,
    },
  });

  test('the traffic switch changes only the weights of its own records', async () => {
    const { stack, pipeline } = blueGreen();
    await expectVerdicts('pipeline traffic switch', stack, pipeline.trafficSwitchFunction!.role!, [
      scenario('UPSERT of both slots of its record in eu-west-1', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1',
        change(['api.eu-west-1.example.com', 'api.eu-west-1.example.com'], ['A', 'A'], ['UPSERT', 'UPSERT'])),
      scenario('UPSERT of its record in the primary region', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1',
        change(['api.us-east-1.example.com'], ['A'], ['UPSERT'])),
      scenario('ListResourceRecordSets', 'route53:ListResourceRecordSets', ZONE, 'us-east-1'),
    ], [
      negative('DELETE of the zone\'s MX record', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1', change(['example.com'], ['MX'], ['DELETE'])),
      negative('UPSERT of another name', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1', change(['www.example.com'], ['A'], ['UPSERT'])),
      negative('UPSERT of its name with another type', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1',
        change(['api.eu-west-1.example.com'], ['TXT'], ['UPSERT'])),
      negative('DELETE of its own record', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1', change(['api.eu-west-1.example.com'], ['A'], ['DELETE'])),
      negative('a batch that also changes another record', 'route53:ChangeResourceRecordSets', ZONE, 'us-east-1',
        change(['api.eu-west-1.example.com', 'mail.example.com'], ['A', 'A'], ['UPSERT', 'UPSERT'])),
      negative('a record of another zone', 'route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/ZOTHER', 'us-east-1',
        change(['api.eu-west-1.example.com'], ['A'], ['UPSERT'])),
    ]);
  });

  test('the watcher uses the alerts key only through SNS', async () => {
    const { stack, pipeline, alertsKeyArn } = blueGreen();
    await expectVerdicts('pipeline watcher', stack, pipeline.watcherRole, [
      scenario('sns:Publish to the notification topic', 'sns:Publish', `arn:aws:sns:${PRIMARY}:${MOTO_ACCOUNT}:${stack.getLogicalId(
        (stack.node.findChild('Alerts') as sns.Topic).node.defaultChild as CfnElement)}`, PRIMARY),
      scenario('kms:GenerateDataKey through SNS', 'kms:GenerateDataKey', alertsKeyArn, PRIMARY, { other: via('sns', PRIMARY) }),
      scenario('kms:Decrypt through SNS', 'kms:Decrypt', alertsKeyArn, PRIMARY, { other: via('sns', PRIMARY) }),
    ], [
      negative('kms:Decrypt of the alerts key used directly', 'kms:Decrypt', alertsKeyArn, PRIMARY),
      negative('kms:GenerateDataKey of the alerts key used directly', 'kms:GenerateDataKey', alertsKeyArn, PRIMARY),
      negative('kms:Decrypt of the alerts key through Secrets Manager', 'kms:Decrypt', alertsKeyArn, PRIMARY, { other: via('secretsmanager', PRIMARY) }),
    ]);
  });
});
