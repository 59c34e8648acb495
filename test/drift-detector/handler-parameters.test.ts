import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientCache } from '../../lambda-src/shared/clients';
import { RunDigest } from '../../lambda-src/shared/comparison/digest';
import { ParametersScope } from '../../lambda-src/shared/comparison/parameters';

const ssm = mockClient(SSMClient);
const denied = () => Object.assign(new Error('not authorized to perform kms:Decrypt'), { name: 'AccessDeniedException' });

function scope(digest = new RunDigest()): ParametersScope {
  return new ParametersScope({
    clients: new ClientCache('us-east-1'),
    primaryRegion: 'us-east-1',
    replicaRegions: ['eu-west-1'],
    path: '/app',
    digest,
    keepForRemediation: false,
    excludedNames: new Set(['/app/global/secrets/drift-detection-config']),
  });
}

beforeEach(() => ssm.reset());
afterAll(() => ssm.restore());

test('reads a path with one decrypting listing, page by page, skipping excluded names', async () => {
  ssm.on(GetParametersByPathCommand, { WithDecryption: true, NextToken: undefined }).resolves({
    Parameters: [{ Name: '/app/a', Value: 'x', Type: 'String' }, { Name: '/app/global/secrets/drift-detection-config', Value: '{}', Type: 'String' }],
    NextToken: 'page-2',
  });
  ssm.on(GetParametersByPathCommand, { WithDecryption: true, NextToken: 'page-2' }).resolves({ Parameters: [{ Name: '/app/b', Value: 'y', Type: 'SecureString' }] });
  const inventory = await scope().read({ region: 'us-east-1' }, 'primary');
  expect([...inventory.items.keys()]).toEqual(['/app/a', '/app/b']);
  expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(2);
  expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(0);
});

test('one SecureString the role may not decrypt is an item failure; the rest of the path is still compared', async () => {
  ssm.on(GetParametersByPathCommand, { WithDecryption: true }).rejects(denied());
  ssm.on(GetParametersByPathCommand, { WithDecryption: false }).resolves({
    Parameters: [
      { Name: '/app/plain', Value: 'p', Type: 'String' },
      { Name: '/app/ok', Value: 'ciphertext', Type: 'SecureString' },
      { Name: '/app/locked', Value: 'ciphertext', Type: 'SecureString' },
    ],
  });
  ssm.on(GetParametersCommand).rejects(denied());
  ssm.on(GetParameterCommand, { Name: '/app/ok' }).resolves({ Parameter: { Name: '/app/ok', Value: 'decrypted', Type: 'SecureString' } });
  ssm.on(GetParameterCommand, { Name: '/app/locked' }).rejects(denied());

  const digest = new RunDigest();
  const inventory = await scope(digest).read({ region: 'us-east-1' }, 'primary');
  expect([...inventory.items.keys()].sort()).toEqual(['/app/ok', '/app/plain']);
  expect([...inventory.itemFailures]).toEqual([['/app/locked', { errorName: 'AccessDeniedException' }]]);
  // The decrypted value, not the ciphertext, is what was digested.
  expect(inventory.items.get('/app/ok')!.digest).toBe(digest.ofString('decrypted'));
  expect(inventory.items.get('/app/ok')!.metadata).toEqual({ type: 'SecureString', dataType: 'text' });
});

test('other errors fail the whole location', async () => {
  ssm.on(GetParametersByPathCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
  await expect(scope().read({ region: 'us-east-1' }, 'primary')).rejects.toThrow('slow down');
});
