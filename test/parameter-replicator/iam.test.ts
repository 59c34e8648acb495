/**
 * Offline IAM evaluation of the parameter replicator's synthesized role: the requests its handler
 * makes (ParameterReplicatorActions in the contract) on a selected parameter are allowed in the
 * primary and replica regions, and the same requests on a parameter outside its paths, in another
 * region, on the library's settings documents, or with another key, are denied.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CrossRegionParameterReplicator, ParameterSelection } from '../../src';
import { ParameterReplicatorActions } from '../../src/parameter-replicator/contract';
import { Authorization, evaluate, formatSummary, negative, scenario } from '../harness/iam-evaluation';
import { MOTO_ACCOUNT } from '../harness/iam-recorder';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const ELSEWHERE = 'us-west-2';
const EU_KEY = `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const AP_KEY = `arn:aws:kms:${AP}:${MOTO_ACCOUNT}:key/66666666-7777-8888-9999-000000000000`;
const ROLE = 'arn:aws:iam::444455556666:role/parameter-writer';

const parameter = (region: string, name: string) => `arn:aws:ssm:${region}:${MOTO_ACCOUNT}:parameter${name.startsWith('/') ? name : `/${name}`}`;
const via = (region: string) => ({ 'kms:ViaService': `ssm.${region}.amazonaws.com` });

function build(propagateDeletions: boolean) {
  const app = new App();
  const stack = new Stack(app, 'ParameterIam', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const sourceKey = new kms.Key(stack, 'SourceKey');
  const replicator = new CrossRegionParameterReplicator(stack, 'Replicator', {
    parameters: ParameterSelection.fromPaths(['/app/prod', '/shared']),
    replicaRegions: [EU, AP],
    replicaKmsKeys: [{ region: EU, keyArn: EU_KEY }, { region: AP, aliasName: 'alias/parameters' }],
    sourceEncryptionKeys: [sourceKey],
    crossAccountReplicas: [{ region: ELSEWHERE, roleArn: ROLE }],
    propagateDeletions,
    parameterPrefix: '/app/production',
  });
  const template = app.synth().getStackByName(stack.stackName).template;
  const target = { template, roleLogicalId: stack.getLogicalId(replicator.role.node.defaultChild as CfnElement), region: PRIMARY };
  const sourceKeyArn = `arn:aws:kms:${PRIMARY}:${MOTO_ACCOUNT}:key/${stack.getLogicalId(sourceKey.node.defaultChild as CfnElement)}`;
  const provenanceKeyArn = `arn:aws:secretsmanager:${PRIMARY}:${MOTO_ACCOUNT}:secret:${stack.getLogicalId(replicator.provenanceKey.node.defaultChild as CfnElement)}-AbCdEf`;
  return { target, sourceKeyArn, provenanceKeyArn };
}

type Keys = { sourceKeyArn: string; provenanceKeyArn: string };
async function verdicts(label: string, propagateDeletions: boolean, allowed: (k: Keys) => Authorization[], denied: (k: Keys) => Authorization[]) {
  const { target, sourceKeyArn, provenanceKeyArn } = build(propagateDeletions);
  const positives = await evaluate(target, allowed({ sourceKeyArn, provenanceKeyArn }));
  const negatives = await evaluate(target, denied({ sourceKeyArn, provenanceKeyArn }));
  console.log(formatSummary({
    role: label,
    calls: 0,
    authorizations: positives.length,
    allowed: positives.filter((r) => r.allowed).length,
    denied: positives.filter((r) => !r.allowed).length,
    negatives: negatives.length,
    deniedAsExpected: negatives.filter((r) => !r.allowed).length,
    allowedNegatives: negatives.filter((r) => r.allowed).length,
    skippedAssumedRole: 0,
  }));
  expect([
    ...positives.filter((r) => !r.allowed).map((r) => `denied: ${r.describe}`),
    ...negatives.filter((r) => r.allowed).map((r) => `allowed: ${r.describe}`),
    ...[...positives, ...negatives].flatMap((r) => r.ignoredContextKeys.map((k) => `ignored context key ${k} of ${r.describe}`)),
  ]).toEqual([]);
  expect(positives.length).toBeGreaterThan(10);
  expect(negatives.length).toBeGreaterThan(10);
}

/** Reads the handler makes in `region`: of the primaries there (including the GetParameters re-read after a write), or of the replicas. */
const readsIn = (region: string) => (region === PRIMARY ? ParameterReplicatorActions.PRIMARY_READ : ParameterReplicatorActions.REPLICA_READ);
const selectedReads = (region: string) => readsIn(region).flatMap((action) => [
  scenario(`${action} on a selected parameter in ${region}`, action, parameter(region, '/app/prod/db/endpoint'), region),
  scenario(`${action} on the second path in ${region}`, action, parameter(region, '/shared/flag'), region),
]);

test('the role can replicate a selected parameter and cannot touch one outside its paths', async () => {
  await verdicts('parameter replicator', false, ({ sourceKeyArn: sourceKey, provenanceKeyArn }) => [
    ...selectedReads(PRIMARY),
    scenario('GetParametersByPath on the selected path itself', 'ssm:GetParametersByPath', parameter(PRIMARY, '/app/prod'), PRIMARY),
    ...[EU, AP].flatMap((region) => [
      ...selectedReads(region),
      ...ParameterReplicatorActions.REPLICA_WRITE.map((action) =>
        scenario(`${action} on a replica in ${region}`, action, parameter(region, '/app/prod/db/endpoint'), region)),
    ]),
    scenario('decrypt a primary SecureString with its source key through Parameter Store', 'kms:Decrypt', sourceKey, PRIMARY, { other: via(PRIMARY) }),
    ...ParameterReplicatorActions.REPLICA_KMS.map((action) =>
      scenario(`${action} with the eu-west-1 key by ARN through Parameter Store`, action, EU_KEY, EU, { other: via(EU) })),
    ...ParameterReplicatorActions.REPLICA_KMS.map((action) => scenario(`${action} with the ap-southeast-2 key carrying alias/parameters`, action, AP_KEY, AP,
      { other: { ...via(AP), 'kms:ResourceAliases': ['alias/parameters'] } })),
    scenario('assume the cross-account role', 'sts:AssumeRole', ROLE, PRIMARY),
    scenario('read its provenance key', 'secretsmanager:GetSecretValue', provenanceKeyArn, PRIMARY),
  ], () => [
    negative('read a parameter outside the paths', 'ssm:GetParameter', parameter(PRIMARY, '/app/staging/db/endpoint'), PRIMARY),
    negative('read a sibling whose name only starts like a path', 'ssm:GetParameter', parameter(PRIMARY, '/app/production-copy/x'), PRIMARY),
    negative('list a parent path', 'ssm:GetParametersByPath', parameter(PRIMARY, '/app'), PRIMARY),
    negative('GetParameters on a parameter outside the paths', 'ssm:GetParameters', parameter(PRIMARY, '/app/staging/x'), PRIMARY),
    negative('write a selected parameter in the primary region', 'ssm:PutParameter', parameter(PRIMARY, '/app/prod/db/endpoint'), PRIMARY),
    negative('write a parameter outside the paths in a replica region', 'ssm:PutParameter', parameter(EU, '/app/staging/x'), EU),
    negative('write the selected path in a region that is not a replica region', 'ssm:PutParameter', parameter(ELSEWHERE, '/app/prod/x'), ELSEWHERE),
    negative('write a settings document of this library', 'ssm:PutParameter', parameter(EU, '/cdk-cross-region-config/x/settings'), EU),
    negative('write another construct\'s settings document in the primary', 'ssm:PutParameter',
      parameter(PRIMARY, '/app/production/global/secrets/drift-detection-config'), PRIMARY),
    negative('delete a replica without propagateDeletions', 'ssm:DeleteParameter', parameter(EU, '/app/prod/db/endpoint'), EU),
    negative('DescribeParameters (not used)', 'ssm:DescribeParameters', '*', PRIMARY),
    negative('use the eu-west-1 key directly, not through Parameter Store', 'kms:Decrypt', EU_KEY, EU),
    negative('use another key in ap-southeast-2', 'kms:Encrypt', AP_KEY, AP, { other: { ...via(AP), 'kms:ResourceAliases': ['alias/other'] } }),
    negative('use the source key through another service', 'kms:Decrypt', `arn:aws:kms:${PRIMARY}:${MOTO_ACCOUNT}:key/other`, PRIMARY, { other: via(PRIMARY) }),
    negative('assume another role', 'sts:AssumeRole', 'arn:aws:iam::444455556666:role/admin', PRIMARY),
    negative('read another secret', 'secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${PRIMARY}:${MOTO_ACCOUNT}:secret:prod/db-AbCdEf`, PRIMARY),
  ]);
});

test('with propagateDeletions the role may delete replicas of selected parameters, and only those', async () => {
  await verdicts('parameter replicator (propagateDeletions)', true, () => [
    ...[EU, AP].map((region) => scenario(`delete a replica in ${region}`, 'ssm:DeleteParameter', parameter(region, '/app/prod/db/endpoint'), region)),
    ...selectedReads(PRIMARY),
    scenario('keep its settings document current', 'ssm:PutParameter', parameter(PRIMARY, '/app/production/global/secrets/parameter-replication-config'), PRIMARY),
  ], () => [
    negative('delete a primary parameter', 'ssm:DeleteParameter', parameter(PRIMARY, '/app/prod/db/endpoint'), PRIMARY),
    negative('delete a parameter outside the paths', 'ssm:DeleteParameter', parameter(EU, '/app/staging/x'), EU),
    negative('delete in a region that is not a replica region', 'ssm:DeleteParameter', parameter(ELSEWHERE, '/app/prod/x'), ELSEWHERE),
    negative('delete its own settings document', 'ssm:DeleteParameter', parameter(PRIMARY, '/app/production/global/secrets/parameter-replication-config'), PRIMARY),
    ...selectedReads(ELSEWHERE).map((a) => ({ ...a, describe: `must deny: ${a.describe}` })),
    negative('read a parameter whose name only starts like a path', 'ssm:GetParameter', parameter(EU, '/sharedx/flag'), EU),
    negative('tag a primary parameter', 'ssm:AddTagsToResource', parameter(PRIMARY, '/app/prod/db/endpoint'), PRIMARY),
    negative('untag a parameter outside the paths', 'ssm:RemoveTagsFromResource', parameter(AP, '/other/x'), AP),
    negative('read the history of a parameter outside the paths', 'ssm:GetParameterHistory', parameter(AP, '/other/x'), AP),
    negative('list tags of a parameter outside the paths', 'ssm:ListTagsForResource', parameter(AP, '/other/x'), AP),
    negative('label a replica version', 'ssm:LabelParameterVersion', parameter(EU, '/app/prod/db/endpoint'), EU),
  ]);
});
