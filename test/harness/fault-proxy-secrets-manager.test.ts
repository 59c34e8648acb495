/**
 * The fault proxy's delays, its AccessDenied and ignored-write faults, and its Secrets Manager
 * stand-ins (see also the moto gaps named in test/secret-replicator/rotation-and-races.integ.test.ts).
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { FaultProxy, startFaultProxy } from './fault-proxy';
import { MotoServer, startMotoServer } from './moto';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

let moto: MotoServer;
let proxy: FaultProxy;
const clients: SecretsManagerClient[] = [];

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, standIns: { awsCurrentReads: true, singleCurrentStage: true } });
});

afterEach(() => proxy.clearRules());

afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await proxy?.stop();
  await moto?.stop();
});

function client(region: string, appId?: string): SecretsManagerClient {
  const c = new SecretsManagerClient({ region, endpoint: proxy.endpoint, credentials: CREDENTIALS, maxAttempts: 1, ...(appId ? { customUserAgent: `app/${appId}` } : {}) });
  clients.push(c);
  return c;
}

test('holds a matching request until its gate opens, and leaves other clients alone', async () => {
  await client('eu-west-1').send(new CreateSecretCommand({ Name: 'gate/a', SecretString: 'not-a-real-secret-0' }));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  proxy.addDelay({ operation: 'UpdateSecret', userAgent: 'app/slow', delayMs: 0, until: gate });
  const order: string[] = [];

  const slow = client('eu-west-1', 'slow').send(new UpdateSecretCommand({ SecretId: 'gate/a', SecretString: 'not-a-real-secret-1' })).then(() => order.push('slow'));
  await client('eu-west-1', 'fast').send(new UpdateSecretCommand({ SecretId: 'gate/a', SecretString: 'not-a-real-secret-2' })).then(() => order.push('fast'));
  open();
  await slow;

  expect(order).toEqual(['fast', 'slow']);
  const got = await client('eu-west-1').send(new GetSecretValueCommand({ SecretId: 'gate/a' }));
  expect(got.SecretString).toBe('not-a-real-secret-1'); // the held write landed last
});

test('answers AccessDeniedException for an access-denied rule', async () => {
  proxy.addRule({ region: 'ap-southeast-2', operation: 'DescribeSecret', fault: 'access-denied' });
  await expect(client('ap-southeast-2').send(new DescribeSecretCommand({ SecretId: 'anything' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
});

test('answers an ignore-write rule with success naming the current version, and changes nothing', async () => {
  await client('eu-west-1').send(new CreateSecretCommand({ Name: 'ignored/a', SecretString: 'not-a-real-secret-0' }));
  const before = await client('eu-west-1').send(new DescribeSecretCommand({ SecretId: 'ignored/a' }));
  proxy.addRule({ operation: 'UpdateSecret', fault: 'ignore-write' });

  const answer = await client('eu-west-1').send(new UpdateSecretCommand({
    SecretId: 'ignored/a', SecretString: 'not-a-real-secret-1', ClientRequestToken: 'token-0123456789abcdef0123456789abcdef',
  }));

  expect(answer.VersionId).toBe(Object.keys(before.VersionIdsToStages!)[0]);
  expect((await client('eu-west-1').send(new DescribeSecretCommand({ SecretId: 'ignored/a' }))).VersionIdsToStages).toEqual(before.VersionIdsToStages);
  expect(proxy.stats().injected).toBeGreaterThanOrEqual(1);
});

test('fails if a delay is negative', () => {
  expect(() => proxy.addDelay({ delayMs: -1 })).toThrow('delayMs must be 0 or more, but got -1');
  expect(() => proxy.addDelay({ delayMs: 1, times: -1 })).toThrow('times must be 0 or more, but got -1');
});
