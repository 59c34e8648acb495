import type { IgnoreRuleConfig, ResourceKindName } from './comparison-contract';
import { fail, validateNotEmpty, validateRegionNames } from '../private/validation';

/** Longest ignore pattern, in characters. */
const MAX_PATTERN_LENGTH = 512;

/**
 * Options of a `DriftIgnoreRule`.
 */
export interface DriftIgnoreRuleOptions {
  /**
   * Replica regions the rule applies to, for differences expected only there.
   *
   * @default - every replica region
   */
  readonly replicaRegions?: string[];
}

/**
 * An expected difference: items (or ConfigMap keys) the drift detector does not compare.
 *
 * Patterns are globs over the item's name: `*` matches any characters except `/`, `**` any
 * characters including `/`, and `?` one character except `/`.
 *
 * @example
 * // Regional endpoints differ by design.
 * DriftIgnoreRule.parameters('/app/prod/endpoints/**');
 * // The log level of the ConfigMap app-config may differ in eu-west-1.
 * DriftIgnoreRule.configMapKeys('default/app-config', 'log_level', { replicaRegions: ['eu-west-1'] });
 */
export class DriftIgnoreRule {
  /**
   * Secrets whose names match `namePattern`.
   *
   * @param namePattern glob over the secret name, such as `prod/regional/*`
   */
  public static secrets(namePattern: string, options: DriftIgnoreRuleOptions = {}): DriftIgnoreRule {
    return new DriftIgnoreRule('secret', 'DriftIgnoreRule.secrets() namePattern', namePattern, undefined, options);
  }

  /**
   * SSM parameters whose names match `namePattern`.
   *
   * @param namePattern glob over the full parameter name, such as `/app/prod/endpoints/**`
   */
  public static parameters(namePattern: string, options: DriftIgnoreRuleOptions = {}): DriftIgnoreRule {
    return new DriftIgnoreRule('parameter', 'DriftIgnoreRule.parameters() namePattern', namePattern, undefined, options);
  }

  /**
   * Whole ConfigMaps whose `<namespace>/<name>` matches `namePattern`.
   *
   * @param namePattern glob over `<namespace>/<name>`, such as `default/regional-*`
   */
  public static configMaps(namePattern: string, options: DriftIgnoreRuleOptions = {}): DriftIgnoreRule {
    return new DriftIgnoreRule('configmap', 'DriftIgnoreRule.configMaps() namePattern', namePattern, undefined, options);
  }

  /**
   * Data keys matching `keyPattern` of the ConfigMaps whose `<namespace>/<name>` matches
   * `namePattern`; their other keys are still compared.
   *
   * @param namePattern glob over `<namespace>/<name>`, such as `default/app-config` or `**`
   * @param keyPattern glob over the data key, such as `region_*`
   */
  public static configMapKeys(namePattern: string, keyPattern: string, options: DriftIgnoreRuleOptions = {}): DriftIgnoreRule {
    validatePatternText('DriftIgnoreRule.configMapKeys() keyPattern', keyPattern);
    return new DriftIgnoreRule('configmap', 'DriftIgnoreRule.configMapKeys() namePattern', namePattern, keyPattern, options);
  }

  /** @internal */
  public readonly _config: IgnoreRuleConfig;

  private constructor(kind: ResourceKindName, prop: string, namePattern: string, keyPattern: string | undefined, options: DriftIgnoreRuleOptions) {
    validatePatternText(prop, namePattern);
    if (options.replicaRegions !== undefined) {
      validateNotEmpty('DriftIgnoreRule replicaRegions', options.replicaRegions);
      validateRegionNames('DriftIgnoreRule replicaRegions', options.replicaRegions);
    }
    this._config = {
      kind,
      namePattern,
      ...(keyPattern !== undefined ? { keyPattern } : {}),
      ...(options.replicaRegions ? { regions: [...options.replicaRegions] } : {}),
    };
  }
}

function validatePatternText(prop: string, pattern: string): void {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    fail(prop, `must be 1 to ${MAX_PATTERN_LENGTH} characters`, pattern);
  }
}
