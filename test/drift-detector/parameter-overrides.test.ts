import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  ConfigDriftDetector, ConfigDriftDetectorProps, CrossRegionParameterReplicator, ParameterOverride, ParameterSelection, SecretSelection,
} from '../../src';
import { DriftEnv } from '../../src/drift-detector/contract';
import { at } from '../core/messages';
import { newStack } from '../secret-replicator/util';

const MINIMAL: ConfigDriftDetectorProps = { replicaRegions: ['eu-west-1', 'ap-southeast-2'], parameterPaths: ['/app/prod'] };

function synth(props: Partial<ConfigDriftDetectorProps>): { detector: ConfigDriftDetector; environment: Record<string, any> } {
  const stack = newStack();
  const detector = new ConfigDriftDetector(stack, 'Detector', { ...MINIMAL, ...props });
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  const [fn] = Object.values(functions);
  return { detector, environment: fn.Properties.Environment.Variables };
}

describe('parameterOverrides', () => {
  test('default: no PARAMETER_OVERRIDES variable, so templates without overrides are unchanged', () => {
    expect(synth({}).environment).not.toHaveProperty(DriftEnv.PARAMETER_OVERRIDES);
    expect(synth({ parameterOverrides: [] }).environment).not.toHaveProperty(DriftEnv.PARAMETER_OVERRIDES);
  });

  test('are passed to the handler as ParameterOverrideConfig[], templates rendered per replica region', () => {
    const { environment } = synth({
      parameterOverrides: [
        ParameterOverride.template('/app/prod/endpoint', 'https://api.{region}.example.com'),
        ParameterOverride.forRegion('/app/prod/ami', 'eu-west-1', 'ami-0123456789abcdef0'),
      ],
    });
    expect(JSON.parse(environment[DriftEnv.PARAMETER_OVERRIDES])).toEqual([
      { name: '/app/prod/endpoint', region: 'eu-west-1', value: 'https://api.eu-west-1.example.com' },
      { name: '/app/prod/endpoint', region: 'ap-southeast-2', value: 'https://api.ap-southeast-2.example.com' },
      { name: '/app/prod/ami', region: 'eu-west-1', value: 'ami-0123456789abcdef0' },
    ]);
  });

  describe('fails if', () => {
    test('no parameter paths are compared', () => {
      expect(() => synth({
        parameterPaths: [],
        secrets: SecretSelection.fromNames('a'),
        parameterOverrides: [ParameterOverride.forRegion('/x/y', 'eu-west-1', 'v')],
      })).toThrow(at('TestStack/Detector', 'parameterOverrides must be used with parameterPaths (overrides apply to compared parameters), but got ["/x/y"]'));
    });

    test('an override names a parameter outside the compared paths', () => {
      expect(() => synth({ parameterOverrides: [ParameterOverride.forRegion('/app/production/x', 'eu-west-1', 'v')] }))
        .toThrow(at('TestStack/Detector', 'parameterOverrides must name parameters under parameterPaths ["/app/prod"], but got ["/app/production/x"]'));
    });

    test('an override names a region the detector does not compare', () => {
      expect(() => synth({ parameterOverrides: [ParameterOverride.forRegion('/app/prod/x', 'us-west-2', 'v')] }))
        .toThrow(at('TestStack/Detector', 'parameterOverrides (parameter /app/prod/x) must name one of the replica regions eu-west-1, ap-southeast-2, but got "us-west-2"'));
    });

    test('two overrides declare the same parameter and region', () => {
      expect(() => synth({
        parameterOverrides: [ParameterOverride.forRegion('/app/prod/x', 'eu-west-1', 'a'), ParameterOverride.template('/app/prod/x', '{region}-b')],
      })).toThrow(at('TestStack/Detector', 'parameterOverrides must declare at most one value per parameter and region, but got "/app/prod/x in eu-west-1 twice"'));
    });
  });
});

describe('parameterReplicator', () => {
  function linked(detectorProps: Partial<ConfigDriftDetectorProps> = {}, paths = ['/app/prod']) {
    const stack = newStack();
    const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(paths, paths.includes('/') ? {} : { excludedPaths: [`${paths[0]}/local`] }),
      replicaRegions: ['eu-west-1', 'ap-southeast-2'],
      overrides: [ParameterOverride.template(`${paths[0] === '/' ? '' : paths[0]}/endpoint`, 'https://{region}.example.com')],
      parameterPrefix: '/app/settings',
    });
    const detector = new ConfigDriftDetector(stack, 'Detector', { parameterReplicator: replicator, ...detectorProps });
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Detects') },
    })) as any[];
    return { replicator, detector, environment: fn.Properties.Environment.Variables, template: Template.fromStack(stack) };
  }

  test('compares the replicator\'s paths and regions, expects its overrides and ignores its excluded paths and settings document', () => {
    const { detector, environment, template, replicator } = linked();
    expect(detector.replicaRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    expect(JSON.parse(environment[DriftEnv.PARAMETER_PATHS])).toEqual(['/app/prod']);
    expect(JSON.parse(environment[DriftEnv.PARAMETER_OVERRIDES])).toEqual([
      { name: '/app/prod/endpoint', region: 'eu-west-1', value: 'https://eu-west-1.example.com' },
      { name: '/app/prod/endpoint', region: 'ap-southeast-2', value: 'https://ap-southeast-2.example.com' },
    ]);
    expect(JSON.parse(environment[DriftEnv.IGNORE_RULES])).toEqual([{ kind: 'parameter', namePattern: '/app/prod/local/**' }]);
    // The replicator's settings document (a reference to its parameter) is never compared.
    const documentId = Stack.of(replicator).getLogicalId(replicator.configParameter!.node.defaultChild as any);
    expect(JSON.stringify(environment[DriftEnv.EXCLUDED_PARAMETERS])).toContain(`{"Ref":"${documentId}"}`);
    // The replicator's settings document says a detector works with it.
    const document = template.toJSON().Resources[documentId].Properties.Value;
    expect(JSON.parse(typeof document === 'string' ? document : JSON.stringify(document)).driftDetectionEnabled).toBe(true);
  });

  test('parameterPaths and parameterOverrides given to the detector win', () => {
    const { environment } = linked({ parameterPaths: ['/app/prod/db'], parameterOverrides: [] });
    expect(JSON.parse(environment[DriftEnv.PARAMETER_PATHS])).toEqual(['/app/prod/db']);
    expect(environment).not.toHaveProperty(DriftEnv.PARAMETER_OVERRIDES);
    expect(environment).not.toHaveProperty(DriftEnv.IGNORE_RULES);
  });

  test('a replicator of every parameter ("/") leaves the paths to parameterPaths', () => {
    expect(() => linked({}, ['/'])).toThrow(at('TestStack/Detector',
      'secrets or parameterPaths, configMaps or replicator must give the detector something to compare, but got undefined'));
    expect(JSON.parse(linked({ parameterPaths: ['/app'], parameterOverrides: [] }, ['/']).environment[DriftEnv.PARAMETER_PATHS])).toEqual(['/app']);
  });

  test('fails if the replicator is in another region', () => {
    const app = new App();
    const replicator = new CrossRegionParameterReplicator(new Stack(app, 'Eu', { env: { region: 'eu-west-1' } }), 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app']), replicaRegions: ['us-east-1'],
    });
    expect(() => new ConfigDriftDetector(new Stack(app, 'Us', { env: { region: 'us-east-1' } }), 'Detector', { parameterReplicator: replicator }))
      .toThrow(at('Us/Detector', 'parameterReplicator must be in the detector\'s region us-east-1, but got "eu-west-1"'));
  });
});

describe('what a parity check given the detector sees (IConfigComparisonSource)', () => {
  test('the linked replicator\'s overrides, excluded paths (as ignore rules) and settings parameter', () => {
    const stack = newStack();
    const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/prod'], { excludedPaths: ['/app/prod/local'] }),
      replicaRegions: ['eu-west-1', 'ap-southeast-2'],
      overrides: [ParameterOverride.template('/app/prod/endpoint', 'https://{region}.example.com')],
      parameterPrefix: '/app/settings',
    });
    const detector = new ConfigDriftDetector(stack, 'Detector', { parameterReplicator: replicator });
    expect(detector.comparedParameterPaths).toEqual(['/app/prod']);
    expect(detector.comparedParameterOverrides).toEqual(replicator.overrides);
    expect(detector.comparedIgnoreRules.map((r) => r._config)).toEqual([{ kind: 'parameter', namePattern: '/app/prod/local/**' }]);
    expect(detector.comparedExcludedParameters).toEqual([replicator.configParameter!.parameterName]);
  });

  test('parameterOverrides given to the detector, and none without them', () => {
    const own = [ParameterOverride.forRegion('/app/prod/ami', 'eu-west-1', 'ami-0123456789abcdef0')];
    expect(synth({ parameterOverrides: own }).detector.comparedParameterOverrides).toEqual(own);
    expect(synth({}).detector.comparedParameterOverrides).toEqual([]);
  });
});
