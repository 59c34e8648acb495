import { Duration, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { IConstruct } from 'constructs';
import { SETTINGS_PARAMETER_ROOT } from './settings-contract';

/**
 * Validation helpers shared by every construct. Each one throws an `Error` whose message names the
 * prop, the value received (as JSON) and what is allowed, e.g.
 * `replicaRegions must not contain the primary region, but got ["us-east-1"]`.
 * Values that are unresolved tokens are skipped: they are only known at deploy time.
 */

/** Prefix of this library's warning ids (`Annotations.addWarningV2`). */
export const WARNING = 'cdk-cross-region-config:';

/** Region name used in messages to show what a valid region looks like. */
export const EXAMPLE_REGION = 'eu-west-1';

/**
 * A configuration mistake found at synth. The message starts with the path of the construct being
 * built (`MyStack/Replicator: replicaRegions must not ...`), as aws-cdk-lib's own validation errors
 * name their construct; `constructPath` holds the path on its own. A plain `Error` subclass:
 * aws-cdk-lib's `ValidationError` is internal to it.
 */
export class ConfigValidationError extends Error {
  /** Path of the construct whose props are wrong; `undefined` when raised outside any construct (a static factory). */
  public readonly constructPath?: string;

  constructor(message: string, constructPath?: string) {
    super(constructPath !== undefined ? `${constructPath}: ${message}` : message);
    Object.setPrototypeOf(this, ConfigValidationError.prototype);
    this.name = 'ValidationError';
    this.constructPath = constructPath;
  }
}

/**
 * This library's constructs whose constructors are running, innermost last. Validation helpers
 * take no scope; the error they raise names the innermost construct under construction.
 */
const underConstruction: IConstruct[] = [];

/**
 * Marks `scope` as under construction, so that every validation error raised until the returned
 * function is called names its path. Call it first in a constructor (after `super`) and the
 * returned function last:
 *
 * ```ts
 * const validated = validationScope(this);
 * // ... validate and build ...
 * validated();
 * ```
 *
 * A constructor that throws never calls the returned function; `validationError` forgets every
 * construct under construction when it raises, because the error aborts all of them.
 */
export function validationScope(scope: IConstruct): () => void {
  underConstruction.push(scope);
  return () => {
    const index = underConstruction.lastIndexOf(scope);
    if (index >= 0) underConstruction.splice(index);
  };
}

/** `fail` for a method of the construct `scope` (outside its constructor): the error names `scope`'s path. */
export function failIn(scope: IConstruct, prop: string, rule: string, received: unknown): never {
  validationScope(scope);
  fail(prop, rule, received);
}

/** Runs `validate` (outside a constructor, e.g. in a method) so that its validation errors name `scope`'s path. */
export function validateIn<T>(scope: IConstruct, validate: () => T): T {
  const validated = validationScope(scope);
  try {
    return validate();
  } finally {
    validated();
  }
}

/** The validation error `message`, prefixed with the path of the innermost construct under construction. */
export function validationError(message: string): ConfigValidationError {
  const scope = underConstruction[underConstruction.length - 1];
  underConstruction.length = 0;
  return new ConfigValidationError(message, scope?.node.path);
}

/** Throws the house-style validation error: `<construct path>: <prop> <rule>, but got <value as JSON>`. */
export function fail(prop: string, rule: string, received: unknown): never {
  throw validationError(`${prop} ${rule}, but got ${describe(received)}`);
}

/**
 * A hint for a struct that arrived without the optional fields it needs, for Python apps (the jsii
 * runtime sets `JSII_AGENT`, e.g. `Python/3.12.1`): a dict passed where a struct is expected loses
 * every key written in snake_case (`alias_name`) on the way, because jsii translates names only for
 * the generated struct classes. Empty for other languages, whose structs are typed.
 */
export function jsiiStructHint(structName: string, snakeCaseKey: string, generatedClassExample: string): string {
  if (!(process.env.JSII_AGENT ?? '').startsWith('Python/')) {
    return '';
  }
  return ` (from Python, a dict passed for ${structName} loses snake_case keys such as ${JSON.stringify(snakeCaseKey)}: `
    + `pass the generated class instead, e.g. ${generatedClassExample})`;
}

/**
 * The member names of the struct `T`, listed once: the compiler rejects a list that misses a member
 * or names one `T` does not have, so the list follows the struct.
 *
 * @example
 * const TARGET_KEYS = structMembers<ConfigMapSyncTarget>({ cluster: true, namespace: true, ... });
 */
export function structMembers<T>(members: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(members);
}

/**
 * Fails when `value`, an element of a list-of-structs prop, carries a key that spells one of the
 * struct's `members` in snake_case (`config_map_name` for `configMapName`): plain JavaScript (or a
 * cast) can pass one, and it would be silently ignored. Other extra keys pass: TypeScript allows a
 * wider object where a struct is expected. Keys whose value is `undefined` are ignored.
 *
 * From Python a dict inside a list never gets here with such a key: the jsii kernel drops every key
 * that is not a member before the library sees the struct (README, "Replica KMS keys"), so there the
 * error of a missing member (`jsiiStructHint`) is all the library can give.
 */
export function validateStructKeys(prop: string, structName: string, value: unknown, members: readonly string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Token.isUnresolved(value)) return;
  const record = value as Record<string, unknown>;
  const misspelled = Object.keys(record).filter((k) => record[k] !== undefined && !members.includes(k) && members.includes(camelCase(k)));
  if (misspelled.length === 0) return;
  fail(prop, `must name its keys as the members of ${structName} (${members.join(', ')}): `
    + `${misspelled.map((k) => `${k} is ${camelCase(k)}`).join(', ')}`, misspelled);
}

/** `config_map_name` as `configMapName`. */
function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** JSON rendering of a received value for messages; `undefined` renders as `undefined`. */
export function describe(value: unknown): string {
  if (value === undefined) {
    return 'undefined';
  }
  if (value instanceof Duration) {
    return JSON.stringify(value.toHumanString());
  }
  return JSON.stringify(value);
}

/** True when `value` (or any element of it) is a token that is only resolved at deploy time. */
export function isUnresolved(value: unknown): boolean {
  if (Array.isArray(value)) {
    return Token.isUnresolved(value) || value.some((v) => Token.isUnresolved(v));
  }
  return Token.isUnresolved(value);
}

/** Fails unless `values` has at least one element. */
export function validateNotEmpty(prop: string, values: readonly unknown[]): void {
  if (isUnresolved(values)) {
    return;
  }
  if (values.length === 0) {
    fail(prop, 'must not be empty', values);
  }
}

/** Fails if `values` contains the same resolved value twice. */
export function validateDistinct(prop: string, values: readonly string[]): void {
  const resolved = values.filter((v) => !Token.isUnresolved(v));
  if (new Set(resolved).size !== resolved.length) {
    fail(prop, 'must not contain duplicates', values);
  }
}

/** Fails unless `value` has between `min` and `max` characters. */
export function validateLength(prop: string, value: string, min: number, max: number): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (value.length < min || value.length > max) {
    const rule = min === max ? `must be ${min} characters long` : `must be ${min} to ${max} characters long`;
    fail(prop, `${rule} (${value.length} received)`, value);
  }
}

/** Fails unless `value` matches `pattern`; `allowed` describes the pattern to the reader. */
export function validatePattern(prop: string, value: string, pattern: RegExp, allowed: string): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (!pattern.test(value)) {
    fail(prop, allowed, value);
  }
}

/** Fails unless `value` is an integer from `min` to `max`; `unit` is appended to the bounds. */
export function validateIntegerRange(prop: string, value: number, min: number, max: number, unit: string = ''): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(prop, integerRangeRule(min, max, unit), value);
  }
}

/**
 * What `validateIntegerRange` allows, in words: an upper bound of `Number.MAX_SAFE_INTEGER` is no
 * bound a reader needs to see (`must be a positive integer`).
 */
function integerRangeRule(min: number, max: number, unit: string): string {
  const suffix = unit ? ` ${unit}` : '';
  if (max >= Number.MAX_SAFE_INTEGER) {
    if (min === 1) return `must be a positive integer${suffix}`;
    if (min === 0) return `must be a non-negative integer${suffix}`;
    return `must be an integer of at least ${min}${suffix}`;
  }
  return `must be an integer from ${min} to ${max}${suffix}`;
}

/**
 * Fails unless `value` is a whole number of `unit` from `min` to `max` (both in that unit).
 * Returns the amount in `unit`, or `undefined` when the duration is a token.
 */
export function validateWholeDuration(
  prop: string,
  value: Duration,
  unit: 'days' | 'hours' | 'minutes' | 'seconds',
  min: number,
  max: number,
): number | undefined {
  if (value.isUnresolved()) {
    return undefined;
  }
  const seconds = value.toSeconds({ integral: false });
  const secondsPerUnit = { days: 86_400, hours: 3_600, minutes: 60, seconds: 1 }[unit];
  const amount = seconds / secondsPerUnit;
  if (!Number.isInteger(amount) || amount < min || amount > max) {
    fail(prop, `must be a whole number of ${unit} from ${min} to ${max}`, value);
  }
  return amount;
}

/** Names of every region in the `aws-cdk-lib` region table. */
export function knownRegions(): string[] {
  return RegionInfo.regions.map((r) => r.name);
}

/** True when `region` is a region name in the `aws-cdk-lib` region table. */
export function isRegionName(region: string): boolean {
  return RegionInfo.regions.some((r) => r.name === region);
}

/** Partition of a known region (`aws`, `aws-cn`, `aws-us-gov`, ...), or `undefined` when unknown. */
export function partitionOf(region: string): string | undefined {
  return isRegionName(region) ? RegionInfo.get(region).partition : undefined;
}

/**
 * DNS suffix of a known region's service endpoints (`amazonaws.com`, `amazonaws.com.cn`, ...),
 * used for `kms:ViaService` values such as `secretsmanager.eu-west-1.amazonaws.com`.
 */
export function domainSuffixOf(region: string): string {
  return RegionInfo.get(region).domainSuffix ?? 'amazonaws.com';
}

/**
 * Fails unless `region` is a real AWS region name.
 *
 * The list is `aws-cdk-lib/region-info`'s `RegionInfo.regions`, the fact table CDK itself uses for
 * partitions and service principals. It grows with each aws-cdk-lib release, so a region launched
 * after the consumer's aws-cdk-lib version is rejected until they upgrade; that is preferred to
 * accepting typos such as `eu-west1`, which would only fail at run time in the handler.
 */
export function validateRegionName(prop: string, region: string): void {
  if (Token.isUnresolved(region)) {
    return;
  }
  if (!isRegionName(region)) {
    fail(prop, `must be an AWS region name such as ${JSON.stringify(EXAMPLE_REGION)}`, region);
  }
}

/** Fails unless every element of `regions` is a real AWS region name (see `validateRegionName`). */
export function validateRegionNames(prop: string, regions: readonly string[]): void {
  for (const region of regions) {
    if (!Token.isUnresolved(region) && !isRegionName(region)) {
      fail(prop, `must contain only AWS region names such as ${JSON.stringify(EXAMPLE_REGION)}`, region);
    }
  }
}

/**
 * Fails when `region` is in a different partition from `primaryRegion` (e.g. `aws-cn` and `aws`):
 * credentials and ARNs never cross partitions. `listProp` words the message for a list prop.
 */
export function validateSamePartition(prop: string, region: string, primaryRegion: string, listProp: boolean = false): void {
  if (Token.isUnresolved(region) || Token.isUnresolved(primaryRegion)) {
    return;
  }
  const expected = partitionOf(primaryRegion);
  const actual = partitionOf(region);
  if (expected !== undefined && actual !== undefined && expected !== actual) {
    const rule = listProp ? 'must contain only regions of the primary region\'s partition' : 'must be a region of the primary region\'s partition';
    fail(prop, `${rule} ${JSON.stringify(expected)}`, region);
  }
}

const PARAMETER_PREFIX_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;
const NAMESPACE_PATTERN = /^[A-Za-z0-9.\-_/#: ]+$/;
/** Longest CloudWatch namespace, in characters. */
const MAX_NAMESPACE_LENGTH = 255;

/** Fails unless `replicaRegions` is a non-empty list of distinct regions other than `primary`, in its partition. */
export function validateReplicaRegions(replicaRegions: string[], primary: string): void {
  validateNotEmpty('replicaRegions', replicaRegions);
  validateRegionNames('replicaRegions', replicaRegions);
  validateDistinct('replicaRegions', replicaRegions);
  if (replicaRegions.includes(primary)) {
    fail('replicaRegions', 'must not contain the primary region', replicaRegions);
  }
  for (const region of replicaRegions) {
    validateSamePartition('replicaRegions', region, primary, true);
  }
}


/** Fails unless `prefix` is a Parameter Store path such as `/my-app/production` outside the reserved `/aws` and `/ssm`. */
export function validateParameterPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) {
    return;
  }
  if (!prefix.startsWith('/') || prefix.endsWith('/')) {
    fail('parameterPrefix', 'must start with "/" and must not end with "/", such as "/my-app/production"', prefix);
  }
  validatePattern('parameterPrefix', prefix, PARAMETER_PREFIX_PATTERN,
    'must be "/"-separated segments of the characters A-Z a-z 0-9 _ . -, such as "/my-app/production"');
  if (/^\/(aws|ssm)/i.test(prefix)) {
    fail('parameterPrefix', 'must not start with the reserved "/aws" or "/ssm"', prefix);
  }
  validateOutsideSettingsRoot('parameterPrefix', prefix);
}

/**
 * Fails if `path` is under `/cdk-cross-region-config`, where the library keeps its handlers'
 * settings documents and the pipeline watcher's rollback claims: the drift detector and the
 * ConfigMap syncer skip everything there, so a user path there would compare or sync nothing.
 */
export function validateOutsideSettingsRoot(prop: string, path: string): void {
  if (Token.isUnresolved(path)) return;
  if (path === SETTINGS_PARAMETER_ROOT || path.startsWith(`${SETTINGS_PARAMETER_ROOT}/`)) {
    fail(prop, `must not be under "${SETTINGS_PARAMETER_ROOT}", where the library keeps its handlers' settings documents`, path);
  }
}


/** Fails unless `namespace` is a CloudWatch namespace outside the reserved `AWS/`. */
export function validateMetricNamespace(namespace: string): void {
  validateLength('metricNamespace', namespace, 1, MAX_NAMESPACE_LENGTH);
  validatePattern('metricNamespace', namespace, NAMESPACE_PATTERN, 'must contain only the characters A-Z a-z 0-9 . - _ / # : and spaces');
  if (!Token.isUnresolved(namespace) && namespace.startsWith('AWS/')) {
    fail('metricNamespace', 'must not start with the reserved "AWS/"', namespace);
  }
}

