import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagPack, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { MINIMAL_PROPS, newStack } from './util';
import { CrossRegionConfigManagement, CrossRegionSecretReplicator } from '../../src';

/**
 * `provenanceKeyEncryptionKey`: a customer managed key for the secret that holds the replicas'
 * provenance HMAC key, and the one-stop construct's `secretsManagerKey` used for it. Without the
 * option the template is unchanged (the snapshot tests cover that); with it, the secret names the
 * key, the handler may decrypt with it only through Secrets Manager, and the NIST 800-53 R5 finding
 * about the AWS managed key is fixed rather than acknowledged.
 */

const USING_KMS_KEY = 'NIST.800.53.R5-SecretsManagerUsingKMSKey';

function provenanceSecret(template: Template, pathPrefix: string): any {
  const secrets = template.findResources('AWS::SecretsManager::Secret');
  const match = Object.values(secrets).filter((r: any) => r.Metadata?.['aws:cdk:path']?.startsWith(`${pathPrefix}/ProvenanceKey/`)
    || String(r.Properties?.Description ?? '').startsWith('HMAC key for the provenance'));
  expect(match).toHaveLength(1);
  return match[0];
}

/** Unacknowledged findings of every pack on resources under `path`. */
function findings(app: App, path: string): string[] {
  const packs: NagPack[] = [new AwsSolutionsChecks(), new ServerlessChecks(), new NIST80053R5Checks()];
  return packs.flatMap((pack) => pack.validateScope(app).violations.flatMap((v) => v.violatingResources
    .filter((r) => r.constructPath?.startsWith(`${path}/`))
    .map((r) => `${v.ruleName} ${r.constructPath}`)));
}

/** Findings of `ruleName` under `path`, acknowledged or not. */
function rawFindings(app: App, path: string, ruleName: string): string[] {
  const pack = new NIST80053R5Checks();
  (pack as any).isAcknowledged = () => false;
  return pack.validateScope(app).violations.filter((v) => v.ruleName === ruleName)
    .flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith(`${path}/`)).map((r) => r.constructPath ?? ''));
}

function replicatorWithKey(): { app: App; stack: Stack; key: kms.Key; replicator: CrossRegionSecretReplicator } {
  const app = new App();
  const stack = newStack(app);
  const key = new kms.Key(stack, 'ProvenanceCmk', { enableKeyRotation: true });
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, provenanceKeyEncryptionKey: key });
  return { app, stack, key, replicator };
}

describe('CrossRegionSecretReplicator provenanceKeyEncryptionKey', () => {
  test('without it the provenance key secret uses aws/secretsmanager and the NIST finding is acknowledged with its reason', () => {
    const app = new App();
    const stack = newStack(app);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', MINIMAL_PROPS);
    const secret = provenanceSecret(Template.fromStack(stack), 'TestStack/Replicator');
    expect(secret.Properties.KmsKeyId).toBeUndefined();
    expect(replicator.provenanceKey.encryptionKey).toBeUndefined();
    expect(rawFindings(app, 'TestStack/Replicator', USING_KMS_KEY)).not.toEqual([]);
    expect(findings(app, 'TestStack/Replicator')).toEqual([]);
  });

  test('encrypts the provenance key secret with the given key', () => {
    const { stack, key, replicator } = replicatorWithKey();
    const secret = provenanceSecret(Template.fromStack(stack), 'TestStack/Replicator');
    expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] });
    expect(replicator.provenanceKey.encryptionKey).toBe(key);
  });

  test('lets the handler decrypt with the key only through Secrets Manager in the primary region', () => {
    const { stack, key, replicator } = replicatorWithKey();
    const template = Template.fromStack(stack);
    const roleArn = { 'Fn::GetAtt': [stack.getLogicalId(replicator.role.node.defaultChild as any), 'Arn'] };
    const keyPolicy: any[] = template.toJSON().Resources[stack.getLogicalId(key.node.defaultChild as kms.CfnKey)].Properties.KeyPolicy.Statement;
    const forRole = keyPolicy.filter((st) => JSON.stringify(st.Principal) === JSON.stringify({ AWS: roleArn }));
    expect(forRole).toEqual([{
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Resource: '*',
    }]);
    // The role's own policy grants nothing on the key: the key policy is the only grant, and only for decrypt.
    const rolePolicies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(stack.getLogicalId(replicator.role.node.defaultChild as any)));
    expect(JSON.stringify(rolePolicies)).not.toContain(stack.getLogicalId(key.node.defaultChild as kms.CfnKey));
  });

  test('fixes the NIST 800-53 R5 finding instead of acknowledging it, and leaves no unacknowledged finding of any pack', () => {
    const { app, replicator } = replicatorWithKey();
    expect(rawFindings(app, 'TestStack/Replicator', USING_KMS_KEY)).toEqual([]);
    const acks = replicator.provenanceKey.node.metadata.flatMap((m) => Object.keys((m.data ?? {}) as object));
    expect(acks.some((id) => id.includes('SecretsManagerUsingKMSKey'))).toBe(false);
    expect(findings(app, 'TestStack/Replicator')).toEqual([]);
  });
});

describe('CrossRegionConfigManagement secretsManagerKey', () => {
  function management(): { app: App; stack: Stack; template: Template } {
    const app = new App();
    const stack = new Stack(app, 'SecretsStack', { env: { region: 'us-east-1' } });
    new CrossRegionConfigManagement(stack, 'Secrets', {
      environment: 'production',
      projectName: 'genai-demo',
      enableMultiRegion: true,
      replicationRegions: ['eu-west-1'],
      alertingTopic: new sns.Topic(stack, 'Alerts'),
    });
    return { app, stack, template: Template.fromStack(stack) };
  }

  test('encrypts the replicator\'s provenance key secret with secretsManagerKey', () => {
    const app = new App();
    const stack = new Stack(app, 'SecretsStack', { env: { region: 'us-east-1' } });
    const key = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true });
    new CrossRegionConfigManagement(stack, 'Secrets', {
      environment: 'production',
      projectName: 'genai-demo',
      secretsManagerKey: key,
      enableMultiRegion: true,
      replicationRegions: ['eu-west-1'],
      alertingTopic: new sns.Topic(stack, 'Alerts'),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('^HMAC key for the provenance of the replicas written by the secret replicator SecretsStack/Secrets/Replicator'),
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
    expect(rawFindings(app, 'SecretsStack/Secrets/Replicator', USING_KMS_KEY)).toEqual([]);
  });

  test('without secretsManagerKey the provenance key secret keeps aws/secretsmanager', () => {
    const { template } = management();
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'))
      .filter((r: any) => String(r.Properties.Description).startsWith('HMAC key for the provenance'));
    expect(secrets).toHaveLength(1);
    expect((secrets[0] as any).Properties.KmsKeyId).toBeUndefined();
  });
});
