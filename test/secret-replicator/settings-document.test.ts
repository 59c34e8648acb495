import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { handlerEnvironment, newStack, statementsAllowing } from './util';
import { CrossRegionSecretReplicator, SecretSelection } from '../../src';
import { CHUNK_DATA_BYTES } from '../../src/private/handler-settings';
import { SETTINGS_DOCUMENT_ENV } from '../../src/private/settings-contract';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';

describe('CrossRegionSecretReplicator settings', () => {
  test('synthesizes 2,000 named secrets: the selection moves to the settings document, with no cdk-nag finding, and a warning about IAM\'s quotas', () => {
    const app = new App();
    const stack = newStack(app);
    const names = Array.from({ length: 2000 }, (_, i) => `fleet/service-${String(i).padStart(4, '0')}/config`);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromNames(...names), replicaRegions: ['eu-west-1'] });
    const template = Template.fromStack(stack);
    const env = handlerEnvironment(template);
    expect(replicator.settingsParameters).toHaveLength(Object.keys(template.findResources('AWS::SSM::Parameter')).length);
    expect(env[ReplicatorEnv.SELECTION]).toBeUndefined();
    expect(env[ReplicatorEnv.REPLICA_TARGETS]).toBeUndefined();
    expect(JSON.parse(String(env[SETTINGS_DOCUMENT_ENV]).replace(/\$\{Token\[[^\]]+\]\}/g, 'v'))).toMatchObject({
      variables: [ReplicatorEnv.REPLICA_TARGETS, ReplicatorEnv.SELECTION],
    });
    // The document's JSON in chunks of CHUNK_DATA_BYTES (about 56 KB in 15 parameters).
    const document = JSON.stringify({ [ReplicatorEnv.REPLICA_TARGETS]: [{ region: 'eu-west-1' }], [ReplicatorEnv.SELECTION]: { rules: [{ names }] } });
    expect(Object.keys(template.findResources('AWS::SSM::Parameter')).length).toBe(Math.ceil(document.length / CHUNK_DATA_BYTES));
    // One read of the settings document's path (the other is the run lease's, HandOverPolicy).
    expect(statementsAllowing(template, 'ssm:GetParametersByPath').filter((s) => !JSON.stringify(s).includes(':parameter/cdk-cross-region-config/runs/')))
      .toHaveLength(1);
    // The environment no longer limits the selection; IAM's policy quotas still do, and synth says so.
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp(
      '^The handler\'s IAM policy is about \\d+ characters, more than a role can hold with IAM\'s default quotas \\(10240 inline and 10 managed policies of 6144\\)'));
    const findings = new AwsSolutionsChecks().validateScope(app).violations
      .flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith('TestStack/Replicator/Settings')).map(() => v.ruleName));
    expect(findings).toEqual([]);
  });

  test('keeps a few names in the environment', () => {
    const stack = newStack();
    new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromNames('a/b', 'c/d'), replicaRegions: ['eu-west-1'] });
    const template = Template.fromStack(stack);
    expect(handlerEnvironment(template)[ReplicatorEnv.SELECTION]).toBe('{"rules":[{"names":["a/b","c/d"]}]}');
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });
});
