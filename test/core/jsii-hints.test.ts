import { App, Stack } from 'aws-cdk-lib';
import { at } from './messages';
import { CrossRegionSecretReplicator, IRegionalStageFactory, MultiRegionPipeline, SecretSelection } from '../../src';
import { minimalProps, newPipelineStack } from '../multi-region-pipeline/util';

/**
 * Python and Java apps that pass a dict or Map where a struct is expected: the jsii runtime hands the
 * struct over without the keys written in snake_case (`alias_name`), so the library sees a struct
 * without them. The jsii runtimes set JSII_AGENT in the Node.js process they start.
 */
describe('a struct that lost its snake_case keys', () => {
  const stack = () => new Stack(new App(), 'TestStack', { env: { region: 'us-east-1' } });
  const build = () => new CrossRegionSecretReplicator(stack(), 'Replicator', {
    secrets: SecretSelection.fromNames('app/db'), replicaRegions: ['eu-west-1'], replicaKmsKeys: [{ region: 'eu-west-1' }],
  });
  const previous = process.env.JSII_AGENT;
  afterEach(() => {
    if (previous === undefined) delete process.env.JSII_AGENT;
    else process.env.JSII_AGENT = previous;
  });

  test('names the likely cause and the generated class in a Python app', () => {
    process.env.JSII_AGENT = 'Python/3.11.7';
    expect(build).toThrow(at('TestStack/Replicator',
      'replicaKmsKeys[0] must set exactly one of keyArn and aliasName (from Python, a dict passed for ReplicaKmsKey loses snake_case keys '
      + 'such as "alias_name": pass the generated class instead, e.g. ReplicaKmsKey(region="eu-west-1", alias_name="alias/secrets")), '
      + 'but got {"region":"eu-west-1"}'));
  });

  test.each([undefined, 'Java/17.0.9', 'DotNet/8.0.0'])('says nothing of dicts in an app whose structs are typed (JSII_AGENT %s)', (agent) => {
    if (agent === undefined) delete process.env.JSII_AGENT;
    else process.env.JSII_AGENT = agent;
    expect(build).toThrow(at('TestStack/Replicator', 'replicaKmsKeys[0] must set exactly one of keyArn and aliasName, but got {"region":"eu-west-1"}'));
  });
});

describe('a stage factory without createStage', () => {
  test('fails naming @jsii.implements for Python', () => {
    // What a Python class that subclasses the interface instead of using @jsii.implements hands over.
    class NotAFactory {}
    expect(() => new MultiRegionPipeline(newPipelineStack(), 'Pipeline', {
      ...minimalProps(), application: new NotAFactory() as unknown as IRegionalStageFactory,
    })).toThrow(at('PipelineStack/Pipeline',
      'application must implement IRegionalStageFactory with a createStage method (in Python: a create_stage method, in a class '
      + 'declared with @jsii.implements(IRegionalStageFactory)), but got "<NotAFactory>"'));
  });
});
