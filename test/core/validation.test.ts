import { Duration, Token } from 'aws-cdk-lib';
import {
  describe as describeValue,
  domainSuffixOf,
  fail,
  isRegionName,
  knownRegions,
  partitionOf,
  validateDistinct,
  validateIntegerRange,
  validateLength,
  validateNotEmpty,
  validatePattern,
  validateRegionName,
  validateRegionNames,
  validateSamePartition,
  validateWholeDuration,
} from '../../src/private/validation';

describe('validation messages', () => {
  test('name the prop, the rule and the received value as JSON', () => {
    expect(() => fail('replicaRegions', 'must not contain the primary region', ['us-east-1'])).toThrow(
      'replicaRegions must not contain the primary region, but got ["us-east-1"]');
  });

  test('render durations in words and undefined as undefined', () => {
    expect(describeValue(Duration.hours(36))).toBe('"1 day 12 hours"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
  });
});

describe('list validators', () => {
  test('fail if a list is empty', () => {
    expect(() => validateNotEmpty('items', [])).toThrow('items must not be empty, but got []');
    expect(() => validateNotEmpty('items', ['a'])).not.toThrow();
  });

  test('fail if a list has duplicates', () => {
    expect(() => validateDistinct('items', ['a', 'b', 'a'])).toThrow('items must not contain duplicates, but got ["a","b","a"]');
    expect(() => validateDistinct('items', ['a', 'b'])).not.toThrow();
  });

  test('skip tokens', () => {
    const token = Token.asString({ Ref: 'Param' });
    expect(() => validateNotEmpty('items', Token.asList({ Ref: 'List' }))).not.toThrow();
    expect(() => validateDistinct('items', [token, token])).not.toThrow();
  });
});

describe('scalar validators', () => {
  test('fail if a string is too short or too long', () => {
    expect(() => validateLength('name', '', 1, 3)).toThrow('name must be 1 to 3 characters long (0 received), but got ""');
    expect(() => validateLength('name', 'abcd', 1, 3)).toThrow('name must be 1 to 3 characters long (4 received), but got "abcd"');
    expect(() => validateLength('code', 'ab', 3, 3)).toThrow('code must be 3 characters long (2 received), but got "ab"');
    expect(() => validateLength('name', 'abc', 1, 3)).not.toThrow();
  });

  test('fail if a string does not match the pattern', () => {
    expect(() => validatePattern('name', 'a b', /^\S+$/, 'must not contain spaces')).toThrow('name must not contain spaces, but got "a b"');
  });

  test('fail if a number is not an integer in range', () => {
    expect(() => validateIntegerRange('memorySize', 64, 128, 10240, 'MiB')).toThrow('memorySize must be an integer from 128 to 10240 MiB, but got 64');
    expect(() => validateIntegerRange('retries', 1.5, 0, 2)).toThrow('retries must be an integer from 0 to 2, but got 1.5');
    expect(() => validateIntegerRange('retries', 2, 0, 2)).not.toThrow();
  });

  test('fail if a duration is not a whole number of the unit in range, and return the amount', () => {
    expect(validateWholeDuration('window', Duration.days(7), 'days', 7, 30)).toBe(7);
    expect(validateWholeDuration('window', Duration.hours(168), 'days', 7, 30)).toBe(7);
    expect(() => validateWholeDuration('window', Duration.hours(12), 'days', 7, 30)).toThrow(
      'window must be a whole number of days from 7 to 30, but got "12 hours"');
  });

  test('skip tokens', () => {
    expect(() => validateLength('name', Token.asString({ Ref: 'P' }), 1, 3)).not.toThrow();
    expect(() => validateIntegerRange('n', Token.asNumber({ Ref: 'P' }), 1, 3)).not.toThrow();
    expect(validateWholeDuration('window', Duration.days(Token.asNumber({ Ref: 'P' })), 'days', 7, 30)).toBeUndefined();
  });
});

describe('region validators', () => {
  test('know the commercial, China and GovCloud regions from aws-cdk-lib region-info', () => {
    expect(knownRegions()).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-east-2', 'cn-north-1', 'us-gov-west-1']));
    expect(isRegionName('eu-west-1')).toBe(true);
    expect(isRegionName('eu-west1')).toBe(false);
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('moon-1')).toBeUndefined();
    expect(domainSuffixOf('cn-north-1')).toBe('amazonaws.com.cn');
    expect(domainSuffixOf('eu-west-1')).toBe('amazonaws.com');
  });

  test('fail if a region is not an AWS region name', () => {
    expect(() => validateRegionName('region', 'moon-1')).toThrow('region must be an AWS region name such as "eu-west-1", but got "moon-1"');
    expect(() => validateRegionNames('regions', ['eu-west-1', 'moon-1'])).toThrow(
      'regions must contain only AWS region names such as "eu-west-1", but got "moon-1"');
  });

  test('fail if a region is in another partition than the primary region', () => {
    expect(() => validateSamePartition('region', 'cn-north-1', 'us-east-1')).toThrow(
      'region must be a region of the primary region\'s partition "aws", but got "cn-north-1"');
    expect(() => validateSamePartition('regions', 'us-gov-west-1', 'us-east-1', true)).toThrow(
      'regions must contain only regions of the primary region\'s partition "aws", but got "us-gov-west-1"');
    expect(() => validateSamePartition('region', 'cn-northwest-1', 'cn-north-1')).not.toThrow();
  });

  test('skip tokens', () => {
    const token = Token.asString({ Ref: 'AWS::Region' });
    expect(() => validateRegionName('region', token)).not.toThrow();
    expect(() => validateRegionNames('regions', [token])).not.toThrow();
    expect(() => validateSamePartition('region', token, 'us-east-1')).not.toThrow();
  });
});
