import type { ParameterOverrideConfig } from './comparison-contract';
import { fail, isUnresolved, validateOutsideSettingsRoot } from '../private/validation';

/** Placeholder a `ParameterOverride.template` replaces with the replica region's name. */
const REGION_PLACEHOLDER = '{region}';

/** Deepest parameter hierarchy Parameter Store accepts, in levels. */
const MAX_HIERARCHY_LEVELS = 15;

/** Longest value Parameter Store accepts (an Advanced-tier parameter). */
const MAX_PARAMETER_VALUE_BYTES = 8192;

/**
 * A declared per-region value of a Parameter Store parameter: the value a replica region must hold
 * instead of the primary's, for a parameter whose value differs by region by design (an endpoint,
 * an AMI id, a bucket name).
 *
 * The parameter replicator writes the override into that region; the drift detector (and any
 * parity check) expects it there. A replica that holds the override is not drift; a replica that
 * holds the primary's value instead is.
 *
 * @example
 * // the same endpoint name, with each region's own host
 * ParameterOverride.template('/app/api/endpoint', 'https://api.{region}.example.com');
 * // one region's AMI id
 * ParameterOverride.forRegion('/app/ami', 'eu-west-1', 'ami-0123456789abcdef0');
 */
export class ParameterOverride {
  /**
   * The parameter `parameterName` holds `value` in `region` (and the primary's value in every other
   * replica region).
   *
   * @param parameterName full name of the parameter in the primary region, e.g. `/app/api/endpoint`
   * @param region the replica region
   * @param value the value the replica in `region` must hold
   */
  public static forRegion(parameterName: string, region: string, value: string): ParameterOverride {
    validateName(parameterName);
    if (isUnresolved(region) || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      fail('ParameterOverride.forRegion region', 'must be a region name such as eu-west-1 (not a token)', region);
    }
    validateValue('ParameterOverride.forRegion value', value);
    return new ParameterOverride(parameterName, (replicaRegion) => (replicaRegion === region ? value : undefined), [region]);
  }

  /**
   * The parameter `parameterName` holds `template` in every replica region, with each `{region}`
   * replaced by that region's name.
   *
   * @param parameterName full name of the parameter in the primary region, e.g. `/app/api/endpoint`
   * @param template the value, with `{region}` where the replica region's name goes, e.g. `https://api.{region}.example.com`
   */
  public static template(parameterName: string, template: string): ParameterOverride {
    validateName(parameterName);
    validateValue('ParameterOverride.template template', template);
    if (!template.includes(REGION_PLACEHOLDER)) {
      fail('ParameterOverride.template template', `must contain ${REGION_PLACEHOLDER} (for one fixed value per region use ParameterOverride.forRegion)`, template);
    }
    return new ParameterOverride(parameterName, (replicaRegion) => template.split(REGION_PLACEHOLDER).join(replicaRegion), undefined);
  }

  /** Full name of the parameter the override applies to. */
  public readonly parameterName: string;

  private constructor(
    parameterName: string,
    private readonly render: (replicaRegion: string) => string | undefined,
    /** The regions the override names explicitly; `undefined` for a template (every replica region). */
    private readonly namedRegions: string[] | undefined,
  ) {
    this.parameterName = parameterName;
  }

  /**
   * The overrides as the handlers read them, one per replica region it applies to. Fails when the
   * override names a region that is not a replica region, or a rendered value is too long.
   *
   * @internal
   */
  public _bind(prop: string, replicaRegions: readonly string[]): ParameterOverrideConfig[] {
    for (const region of this.namedRegions ?? []) {
      if (!replicaRegions.includes(region)) {
        fail(`${prop} (parameter ${this.parameterName})`, `must name one of the replica regions ${replicaRegions.join(', ')}`, region);
      }
    }
    const configs: ParameterOverrideConfig[] = [];
    for (const region of replicaRegions) {
      const value = this.render(region);
      if (value === undefined) continue;
      validateValue(`${prop} (parameter ${this.parameterName}, region ${region})`, value);
      configs.push({ name: this.parameterName, region, value });
    }
    return configs;
  }

  /**
   * The values this override declares for those of `regions` it applies to, for a construct that
   * inherits the override from the one that declares it (and validated it against its own regions):
   * a region the override names that is not among `regions` is left out, not an error (the
   * declaring replicator may write regions the inheriting construct does not compare, such as a
   * cross-account replica's).
   *
   * @internal
   */
  public _bindInherited(prop: string, regions: readonly string[]): ParameterOverrideConfig[] {
    const configs: ParameterOverrideConfig[] = [];
    for (const region of regions) {
      const value = this.render(region);
      if (value === undefined) continue;
      validateValue(`${prop} (parameter ${this.parameterName}, region ${region})`, value);
      configs.push({ name: this.parameterName, region, value });
    }
    return configs;
  }
}

/**
 * Every override's handler shape, checked for duplicates: two overrides for the same parameter and
 * region are a mistake (which value wins would be arbitrary).
 *
 * @internal
 */
export function bindParameterOverrides(
  prop: string,
  overrides: readonly ParameterOverride[] | undefined,
  replicaRegions: readonly string[],
): ParameterOverrideConfig[] {
  const configs = (overrides ?? []).flatMap((override) => override._bind(prop, replicaRegions));
  const seen = new Set<string>();
  for (const config of configs) {
    const key = `${config.name}\u0000${config.region}`;
    if (seen.has(key)) {
      fail(prop, 'must declare at most one value per parameter and region', `${config.name} in ${config.region} twice`);
    }
    seen.add(key);
  }
  return configs;
}

function validateName(name: string): void {
  if (isUnresolved(name)) fail('ParameterOverride parameterName', 'must be a literal parameter name (not a token)', name);
  if (!/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(name) || /^\/?(aws|ssm)/i.test(name)) {
    fail(
      'ParameterOverride parameterName',
      'must be a Parameter Store name: 1 to 2048 of a-z A-Z 0-9 _ . - /, not starting with aws or ssm',
      name,
    );
  }
  // A hierarchical name is fully qualified: the handlers list names as `/a/b`, so `a/b` would never match.
  if (name.includes('/') && (!name.startsWith('/') || name.endsWith('/') || name.includes('//'))) {
    fail('ParameterOverride parameterName', 'must be fully qualified when hierarchical: start with "/", with no empty level and no trailing "/"', name);
  }
  if (name.split('/').length - 1 > MAX_HIERARCHY_LEVELS) {
    fail('ParameterOverride parameterName', `must have at most ${MAX_HIERARCHY_LEVELS} levels`, name);
  }
  validateOutsideSettingsRoot('ParameterOverride parameterName', name);
}

function validateValue(prop: string, value: string): void {
  if (isUnresolved(value)) fail(prop, 'must be a literal value (not a token): the handlers compare it at run time', value);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes === 0 || bytes > MAX_PARAMETER_VALUE_BYTES) {
    fail(prop, `must be 1 to ${MAX_PARAMETER_VALUE_BYTES} bytes (the Advanced tier's limit)`, `${bytes} bytes`);
  }
}
