import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConfigDriftDetector, CrossRegionSecretReplicator, SecretSelection } from '../../src';
import { ConfigValidationError, fail, failIn, validateIn, validationScope } from '../../src/private/validation';

/** A construct that validates `check` in its constructor, as the library's constructs do. */
class Checked extends Construct {
  constructor(scope: Construct, id: string, check: (self: Checked) => void) {
    super(scope, id);
    const validated = validationScope(this);
    check(this);
    validated();
  }
}

describe('validation errors name the construct under construction', () => {
  const stack = () => new Stack(new App(), 'TestStack');

  test('prefix the message with the path and keep it on the error', () => {
    let error: unknown;
    try {
      new Checked(stack(), 'Outer', () => fail('replicaRegions', 'must not be empty', []));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error).toBeInstanceOf(Error);
    expect((error as ConfigValidationError).message).toBe('TestStack/Outer: replicaRegions must not be empty, but got []');
    expect((error as ConfigValidationError).constructPath).toBe('TestStack/Outer');
    expect((error as ConfigValidationError).name).toBe('ValidationError');
  });

  test('name the innermost construct, and the outer one again once the inner is built', () => {
    const s = stack();
    expect(() => new Checked(s, 'Outer', (outer) => new Checked(outer, 'Inner', () => fail('a', 'must be b', 1))))
      .toThrow(new Error('TestStack/Outer/Inner: a must be b, but got 1'));
    expect(() => new Checked(s, 'Outer2', (outer) => {
      new Checked(outer, 'Inner', () => undefined);
      fail('a', 'must be b', 1);
    })).toThrow(new Error('TestStack/Outer2: a must be b, but got 1'));
  });

  test('outside any constructor, after a failed one, are unscoped', () => {
    expect(() => new Checked(stack(), 'Failed', () => fail('a', 'must be b', 1))).toThrow();
    expect(() => fail('HealthCheck.http() url', 'must be https', 'x')).toThrow(new Error('HealthCheck.http() url must be https, but got "x"'));
  });

  test('from a method name the construct (failIn, validateIn), and leave later errors unscoped', () => {
    const s = stack();
    const built = new Checked(s, 'Built', () => undefined);
    expect(() => failIn(built, 'replicaRegion', 'must be a replica region', 'x')).toThrow(
      new Error('TestStack/Built: replicaRegion must be a replica region, but got "x"'));
    expect(() => validateIn(built, () => fail('period', 'must be whole minutes', 61))).toThrow(
      new Error('TestStack/Built: period must be whole minutes, but got 61'));
    expect(validateIn(built, () => 42)).toBe(42);
    expect(() => fail('p', 'must be q', 0)).toThrow(new Error('p must be q, but got 0'));
  });
});

describe('a construction that throws an error of another kind leaves no stale path behind', () => {
  // aws-cdk-lib rejects a function name with a space inside `new lambda.Function` with its own error,
  // not the library's validation error; the constructor's scope must still end.
  test.each([
    ['CrossRegionSecretReplicator', (s: Stack) => new CrossRegionSecretReplicator(s, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'), replicaRegions: ['eu-west-1'], functionName: 'not a function name',
    })],
    ['ConfigDriftDetector', (s: Stack) => new ConfigDriftDetector(s, 'Detector', {
      replicaRegions: ['eu-west-1'], parameterPaths: ['/app'], functionName: 'not a function name',
    })],
  ])('%s: a later error outside any construct names no construct', (_name, build) => {
    const s = new Stack(new App(), 'TestStack', { env: { account: '111111111111', region: 'us-east-1' } });
    let thrown: unknown;
    try {
      build(s);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(ConfigValidationError);
    expect(() => SecretSelection.fromNames()).toThrow(new Error('SecretSelection.fromNames() names must not be empty, but got []'));
  });
});
