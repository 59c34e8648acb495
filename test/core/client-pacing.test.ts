import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ClientCache, signingName } from '../../lambda-src/shared/clients';
import { Pacer } from '../../lambda-src/shared/pacing';

/**
 * The pacer must know each client's service in the shipped bundles too, where minification renames
 * the SDK's classes: the service is read from the client's `serviceId`, not its class name.
 */

/** A subclass named as a minifier would name it. */
function mangled<T extends new (...args: any[]) => any>(type: T, name: string): T {
  const renamed = class extends type {};
  Object.defineProperty(renamed, 'name', { value: name });
  return renamed;
}

/** Answers every call without a network: a deserialize-step middleware that never calls on. */
function offline(client: { middlewareStack: { add: (m: any, o: any) => void } }): void {
  client.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: {} }), { step: 'deserialize', priority: 'high', name: 'offline' });
}

test('signingName reads the serviceId of SDK clients, whatever their class is called', () => {
  expect(signingName(new SSMClient({ region: 'us-east-1' }), { name: 'a' })).toBe('ssm');
  expect(signingName(new SecretsManagerClient({ region: 'us-east-1' }), { name: 'b' })).toBe('secretsmanager');
  expect(signingName({}, { name: 'SSMClient' })).toBe('ssm');
});

const savedEnv = { ...process.env };
afterAll(() => {
  process.env = savedEnv;
});

test('calls of clients whose classes a minifier renamed are paced in their quota groups', async () => {
  // Signing needs credentials; nothing is sent.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  delete process.env.AWS_PROFILE;
  const pacer = new Pacer();
  const cache = new ClientCache('us-east-1', undefined, pacer);
  const ssm = cache.get(mangled(SSMClient, 'e'), { region: 'eu-west-1' });
  const sm = cache.get(mangled(SecretsManagerClient, 't'), { region: 'eu-west-1' });
  offline(ssm as any);
  offline(sm as any);
  await ssm.send(new GetParametersByPathCommand({ Path: '/app' }));
  await sm.send(new ListSecretsCommand({}));
  const stats = pacer.stats().map((s) => [s.group, s.region, s.calls]).sort();
  expect(stats).toEqual([['secretsmanager:ListSecrets', 'eu-west-1', 1], ['ssm:read', 'eu-west-1', 1]]);
});
