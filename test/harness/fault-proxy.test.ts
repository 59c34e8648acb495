import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isThrottlingError } from '@smithy/service-error-classification';
import { FaultProxy, identifyRequest, startFaultProxy } from './fault-proxy';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from './moto';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const SECRET_NAME = 'app/config';

let moto: MotoServer;
let proxy: FaultProxy;
const clients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 42 });
});

afterEach(async () => {
  proxy.clearRules();
  proxy.resetStats();
  await moto.reset();
});

afterAll(async () => {
  // Destroying the clients closes their keep-alive sockets, so jest sees no open handles.
  clients.forEach((client) => client.destroy());
  await proxy?.stop();
  await moto?.stop();
});

/** A client that fails on the first error instead of retrying, so each call is one request. */
function secretsManager(region: string, endpoint: string = proxy.endpoint): SecretsManagerClient {
  const client = new SecretsManagerClient({ region, endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  clients.push(client);
  return client;
}

function sts(region: string): STSClient {
  const client = new STSClient({ region, endpoint: proxy.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  clients.push(client);
  return client;
}

async function createSecret(client: SecretsManagerClient): Promise<void> {
  await client.send(new CreateSecretCommand({ Name: SECRET_NAME, SecretString: 'not-a-real-secret' }));
}

/** Resolves to what `promise` rejects with, or fails the test if it resolves. */
async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

test('forwards requests unchanged when no rule matches', async () => {
  // GIVEN
  const client = secretsManager('us-east-1');

  // WHEN
  await createSecret(client);
  const secret = await client.send(new GetSecretValueCommand({ SecretId: SECRET_NAME }));

  // THEN
  expect(secret.SecretString).toBe('not-a-real-secret');
  expect(proxy.stats()).toMatchObject({ forwarded: 2, injected: 0 });
});

test('throttles only the region and operation a rule names', async () => {
  // GIVEN
  const ireland = secretsManager('eu-west-1');
  const oregon = secretsManager('us-west-2');
  await createSecret(ireland);
  await createSecret(oregon);
  proxy.addRule({ region: 'eu-west-1', operation: 'GetSecretValue', fault: 'throttle' });

  // WHEN
  const err = await errorOf(ireland.send(new GetSecretValueCommand({ SecretId: SECRET_NAME })));

  // THEN
  expect(err.name).toBe('ThrottlingException');
  expect(err.$metadata.httpStatusCode).toBe(400);
  expect(isThrottlingError(err)).toBe(true);
  await expect(oregon.send(new GetSecretValueCommand({ SecretId: SECRET_NAME })))
    .resolves.toMatchObject({ SecretString: 'not-a-real-secret' });
  await expect(ireland.send(new DescribeSecretCommand({ SecretId: SECRET_NAME })))
    .resolves.toMatchObject({ Name: SECRET_NAME });
});

test('answers HTTP 500 for a server-error rule', async () => {
  // GIVEN
  const client = secretsManager('us-east-1');
  proxy.addRule({ service: 'secretsmanager', fault: 'server-error' });

  // WHEN
  const err = await errorOf(createSecret(client));

  // THEN
  expect(err.$metadata.httpStatusCode).toBe(500);
  expect(err.name).toBe('InternalServiceError');
});

test('drops the connection without an HTTP response for a connection-refused rule', async () => {
  // GIVEN
  const client = secretsManager('us-east-1');
  await createSecret(client);
  proxy.addRule({ operation: 'GetSecretValue', fault: 'connection-refused', times: 1 });

  // WHEN
  const err = await errorOf(client.send(new GetSecretValueCommand({ SecretId: SECRET_NAME })));

  // THEN
  expect(err.$metadata?.httpStatusCode).toBeUndefined();
  expect(err.$response).toBeUndefined();
  // Outside jest the SDK surfaces a TimeoutError with code ECONNRESET. Inside jest, Node's socket
  // error comes from another realm (not `instanceof Error` in the test's vm context), so the SDK
  // rethrows `Error('AWS SDK error wrapper for TimeoutError: socket hang up')` without name or code.
  expect(`${err.code} ${err.message}`).toMatch(/ECONNRESET|socket hang up/);
  // The SDK opens a new socket and carries on.
  await expect(client.send(new GetSecretValueCommand({ SecretId: SECRET_NAME })))
    .resolves.toMatchObject({ Name: SECRET_NAME });
});

test('stops injecting once a rule has fired `times` times', async () => {
  // GIVEN
  const client = secretsManager('us-east-1');
  await createSecret(client);
  proxy.addRule({ operation: 'GetSecretValue', fault: 'throttle', times: 2 });

  // WHEN
  const outcomes = await callRepeatedly(client, 4);

  // THEN
  expect(outcomes).toEqual([true, true, false, false]);
  expect(proxy.stats().injected).toBe(2);
});

test('injects about the configured share of calls, identically for the same seed', async () => {
  // GIVEN three proxies: two with the same seed, one with another
  await createSecret(secretsManager('us-east-1'));
  const runs: boolean[][] = [];
  for (const seed of [7, 7, 8]) {
    const seeded = await startFaultProxy({ target: moto.endpoint, seed });
    try {
      const client = secretsManager('us-east-1', seeded.endpoint);
      seeded.addRule({ operation: 'GetSecretValue', fault: 'throttle', probability: 0.3 });

      // WHEN
      runs.push(await callRepeatedly(client, 200));
    } finally {
      await seeded.stop();
    }
  }

  // THEN 30% of 200 is 60; 40..80 is about three standard deviations (sqrt(200 * 0.3 * 0.7) = 6.5)
  const injected = runs[0].filter(Boolean).length;
  expect(injected).toBeGreaterThanOrEqual(40);
  expect(injected).toBeLessThanOrEqual(80);
  expect(runs[1]).toEqual(runs[0]);
  expect(runs[2]).not.toEqual(runs[0]);
});

test('recognises query-protocol STS operations from the form body', async () => {
  // GIVEN
  const client = sts('us-east-1');
  proxy.addRule({ service: 'sts', operation: 'AssumeRole', fault: 'throttle' });
  proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', fault: 'server-error', times: 1 });

  // WHEN
  const throttled = await errorOf(client.send(new AssumeRoleCommand({
    RoleArn: 'arn:aws:iam::123456789012:role/replicator',
    RoleSessionName: 'fault-proxy-test',
  })));
  const failed = await errorOf(client.send(new GetCallerIdentityCommand({})));
  const identity = await client.send(new GetCallerIdentityCommand({}));

  // THEN
  expect(throttled.name).toBe('Throttling');
  expect(throttled.$metadata.httpStatusCode).toBe(400);
  expect(isThrottlingError(throttled)).toBe(true);
  expect(failed.name).toBe('InternalFailure');
  expect(failed.$metadata.httpStatusCode).toBe(500);
  expect(identity.Account).toBe('123456789012');
});

test('counts forwarded and injected requests per service, region and operation', async () => {
  // GIVEN
  const client = secretsManager('eu-west-1');
  await createSecret(client);
  proxy.addRule({ operation: 'GetSecretValue', fault: 'throttle', times: 1 });

  // WHEN
  await callRepeatedly(client, 3);
  await sts('us-east-1').send(new GetCallerIdentityCommand({}));

  // THEN
  expect(proxy.stats()).toEqual({
    forwarded: 4,
    injected: 1,
    byOperation: {
      'secretsmanager:eu-west-1:CreateSecret': { forwarded: 1, injected: 0 },
      'secretsmanager:eu-west-1:GetSecretValue': { forwarded: 2, injected: 1 },
      'sts:us-east-1:GetCallerIdentity': { forwarded: 1, injected: 0 },
    },
  });
});

test('points an unconfigured SDK client at the proxy through awsTestEnv, and restores the environment', async () => {
  // GIVEN a developer's shell with a session token of its own
  const before = applyEnv({ AWS_SESSION_TOKEN: 'from-the-shell', AWS_REGION: 'us-east-1' });
  const restore = applyEnv(awsTestEnv(proxy.endpoint, 'ap-southeast-2'));
  try {
    // WHEN a client is built the way a handler builds it: from the environment alone
    const client = new SecretsManagerClient({ maxAttempts: 1 });
    clients.push(client);
    await createSecret(client);

    // THEN
    expect(process.env.AWS_SESSION_TOKEN).toBeUndefined();
    expect(proxy.stats().byOperation).toEqual({ 'secretsmanager:ap-southeast-2:CreateSecret': { forwarded: 1, injected: 0 } });
  } finally {
    restore();
  }
  expect(process.env.AWS_SESSION_TOKEN).toBe('from-the-shell');
  expect(process.env.AWS_REGION).toBe('us-east-1');
  before();
});

test('reads the credential scope and Action of presigned and REST requests', () => {
  expect(identifyRequest({}, '/?Action=GetCallerIdentity&X-Amz-Credential=testing%2F20260101%2Fap-south-1%2Fsts%2Faws4_request', Buffer.alloc(0)))
    .toEqual({ region: 'ap-south-1', service: 'sts', operation: 'GetCallerIdentity', protocol: 'query' });
  expect(identifyRequest({
    authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/eu-central-1/eks/aws4_request, SignedHeaders=host, Signature=00',
  }, '/clusters/main', Buffer.alloc(0)))
    .toEqual({ region: 'eu-central-1', service: 'eks', operation: 'unknown', protocol: 'rest' });
});

test('fails if a rule has a probability outside 0..1 or negative times', () => {
  expect(() => proxy.addRule({ fault: 'throttle', probability: 1.5 }))
    .toThrow('probability must be between 0 and 1, but got 1.5');
  expect(() => proxy.addRule({ fault: 'throttle', times: -1 }))
    .toThrow('times must be 0 or more, but got -1');
});

/** Calls GetSecretValue `count` times in sequence; `true` marks a throttled call. */
async function callRepeatedly(client: SecretsManagerClient, count: number): Promise<boolean[]> {
  const outcomes: boolean[] = [];
  for (let i = 0; i < count; i++) {
    try {
      await client.send(new GetSecretValueCommand({ SecretId: SECRET_NAME }));
      outcomes.push(false);
    } catch (err) {
      if ((err as Error).name !== 'ThrottlingException') throw err;
      outcomes.push(true);
    }
  }
  return outcomes;
}
