import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigDriftDetector, ConfigParityCheck } from '../../src';

/**
 * A parity check built from a drift detector decrypts what the detector decrypts: the detector's
 * own `parameterReplicaKmsKeys` (each in its region, through Parameter Store) and its
 * `encryptionKeyArns`. Without them a check of customer-key SecureStrings fails closed as unreadable.
 */
const ACCOUNT = '111122223333';
const EU_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const OTHER_KEY = `arn:aws:kms:ap-southeast-2:${ACCOUNT}:key/66666666-7777-8888-9999-000000000000`;

function parityPolicies(props: { readonly encryptionKeyArns?: string[] } = {}): string {
  const app = new App();
  const stack = new Stack(app, 'Keys', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const detector = new ConfigDriftDetector(stack, 'Detector', {
    replicaRegions: ['eu-west-1', 'ap-southeast-2'],
    parameterPaths: ['/app/prod'],
    parameterReplicaKmsKeys: [{ region: 'eu-west-1', keyArn: EU_KEY }, { region: 'ap-southeast-2', aliasName: 'alias/parameters' }],
    encryptionKeyArns: [OTHER_KEY],
  });
  new ConfigParityCheck(stack, 'Parity', { driftDetector: detector, ...props });
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return JSON.stringify(Object.entries(policies).filter(([id]) => id.startsWith('Parity')).map(([, p]) => p));
}

test('a parity check built from a drift detector decrypts with the detector\'s parameterReplicaKmsKeys and encryptionKeyArns', () => {
  const policies = parityPolicies();
  // The replica key by ARN, through Parameter Store in its region.
  expect(policies).toMatch(new RegExp(`"kms:Decrypt".*"kms:ViaService":"ssm\\.eu-west-1\\.amazonaws\\.com".*"Resource":"${EU_KEY}"`
    + `|"kms:Decrypt".*"Resource":"${EU_KEY}".*"ssm\\.eu-west-1\\.amazonaws\\.com"`));
  // The replica key by alias, in its region.
  expect(policies).toContain('"kms:ResourceAliases":"alias/parameters"');
  expect(policies).toContain('ssm.ap-southeast-2.amazonaws.com');
  // The detector's other keys.
  expect(policies).toContain(OTHER_KEY);
});

test('the check\'s own encryptionKeyArns replace the detector\'s', () => {
  const policies = parityPolicies({ encryptionKeyArns: [] });
  expect(policies).not.toContain(OTHER_KEY);
  expect(policies).toContain(EU_KEY);
});
