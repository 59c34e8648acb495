import { Template } from 'aws-cdk-lib/assertions';
import { ConfigDriftDetector, ConfigDriftDetectorProps, ParameterOverride, SecretSelection } from '../../src';
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
