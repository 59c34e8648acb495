import { Token } from 'aws-cdk-lib';
import type { ParameterSelectionConfig } from './contract';
import { fail, validateDistinct, validateLength, validateOutsideSettingsRoot, validatePattern } from '../private/validation';

/** A parameter path: `/`-separated segments of Parameter Store's name characters, starting with `/`, not ending with `/`. */
const PATH_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;
const PATH_ALLOWED = 'must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", '
  + 'such as "/my-app/production" (or "/" for every parameter)';
/** Globs over a full parameter name: its characters plus `*` and `?`. */
const GLOB_PATTERN = /^[A-Za-z0-9_.\-/*?]+$/;
/** Deepest parameter hierarchy Parameter Store accepts, in levels. */
const MAX_HIERARCHY_LEVELS = 15;
/** Tag key and value length limits of Parameter Store, in characters. */
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;

/**
 * Options of `ParameterSelection.fromPaths()`: conditions a parameter below the paths must also meet.
 */
export interface ParameterSelectionOptions {
  /**
   * Globs over the full parameter name: `*` matches within a path segment, `**` across segments,
   * `?` one character. A parameter is selected when it matches any of them.
   *
   * @default - every name below the paths
   */
  readonly namePatterns?: string[];

  /**
   * Tags a parameter must carry, each with the given value, to be selected. Parameter Store change
   * events carry no tags, so the handler reads them for each changed parameter.
   *
   * @default - no tag condition
   */
  readonly tags?: { [key: string]: string };

  /**
   * Paths below `paths` whose parameters are never replicated, recursively.
   *
   * @default - none
   */
  readonly excludedPaths?: string[];
}

/**
 * Which Parameter Store parameters in the primary region are replicated: every parameter below one
 * of the paths (recursively), optionally narrowed by name globs, tags and excluded paths.
 *
 * Paths are what IAM scopes the handler's permissions by (`parameter/<path>/*` in each region), so
 * every selection names at least one. The settings documents this library writes (below
 * `/cdk-cross-region-config`) are never replicated.
 *
 * @example
 * ParameterSelection.fromPaths(['/my-app/production'], {
 *   namePatterns: ['/my-app/production/**\/endpoint'],
 *   excludedPaths: ['/my-app/production/local'],
 * });
 */
export class ParameterSelection {
  /**
   * Every parameter below `paths` (recursively) that meets `options`.
   *
   * @param paths parameter paths such as `/my-app/production`, at least one; they must not overlap
   * @param options name globs, tags and excluded paths
   */
  public static fromPaths(paths: string[], options: ParameterSelectionOptions = {}): ParameterSelection {
    validatePaths('ParameterSelection.fromPaths() paths', paths);
    for (const path of paths) {
      for (const other of paths) {
        if (path !== other && isBelow(other, path)) {
          fail('ParameterSelection.fromPaths() paths', `must not overlap (each is selected recursively), but ${JSON.stringify(other)} is below`, path);
        }
      }
    }
    const namePatterns = [...(options.namePatterns ?? [])];
    namePatterns.forEach((pattern, i) => {
      if (Token.isUnresolved(pattern)) fail(`ParameterSelection namePatterns[${i}]`, 'must be a literal glob (not a token)', pattern);
      validateLength(`ParameterSelection namePatterns[${i}]`, pattern, 1, 2048);
      validatePattern(`ParameterSelection namePatterns[${i}]`, pattern, GLOB_PATTERN, 'must contain only the characters A-Z a-z 0-9 _ . - / and the wildcards * and ?');
    });
    validateDistinct('ParameterSelection namePatterns', namePatterns);
    const tags = { ...(options.tags ?? {}) };
    for (const [key, value] of Object.entries(tags)) {
      validateLength('ParameterSelection tags key', key, 1, MAX_TAG_KEY_LENGTH);
      validateLength(`ParameterSelection tags["${key}"]`, value, 0, MAX_TAG_VALUE_LENGTH);
      if (/^aws:/i.test(key)) fail('ParameterSelection tags key', 'must not start with the reserved "aws:"', key);
    }
    const excludedPaths = [...(options.excludedPaths ?? [])];
    validatePaths('ParameterSelection excludedPaths', excludedPaths, true);
    for (const excluded of excludedPaths) {
      if (!Token.isUnresolved(excluded) && !paths.some((path) => isBelow(excluded, path))) {
        fail('ParameterSelection excludedPaths', `must be below one of the selected paths ${JSON.stringify(paths)}`, excluded);
      }
    }
    return new ParameterSelection([...paths], namePatterns, tags, excludedPaths);
  }

  private constructor(
    /** Selected paths, each recursively. */
    public readonly paths: string[],
    /** Name globs; empty means every name below `paths`. */
    public readonly namePatterns: string[],
    /** Required tags; empty means no tag condition. */
    public readonly tags: { [key: string]: string },
    /** Paths never replicated. */
    public readonly excludedPaths: string[],
  ) {}

  /**
   * The selection as the handler reads it.
   *
   * @internal
   */
  public _config(): ParameterSelectionConfig {
    return {
      paths: [...this.paths],
      ...(this.namePatterns.length ? { namePatterns: [...this.namePatterns] } : {}),
      ...(Object.keys(this.tags).length ? { tags: { ...this.tags } } : {}),
      ...(this.excludedPaths.length ? { excludedPaths: [...this.excludedPaths] } : {}),
    };
  }

  /**
   * Whether parameter `name` is below a selected path and not below an excluded one (the name
   * globs and tags are the handler's to check).
   *
   * @internal
   */
  public _covers(name: string): boolean {
    return this.paths.some((path) => isBelow(name, path)) && !this.excludedPaths.some((path) => isBelow(name, path) || name === path);
  }
}

/** Whether `name` is below `path` (`/` covers every name). */
function isBelow(name: string, path: string): boolean {
  return path === '/' ? name !== '/' : name.startsWith(`${path}/`);
}

function validatePaths(prop: string, paths: string[], allowEmpty = false): void {
  if (!allowEmpty && paths.length === 0) fail(prop, 'must not be empty', paths);
  validateDistinct(prop, paths);
  for (const path of paths) {
    if (Token.isUnresolved(path)) fail(prop, 'must be literal paths (not tokens): IAM and the event rule are scoped by them', path);
    if (path === '/' && !allowEmpty) continue;
    validatePattern(prop, path, PATH_PATTERN, PATH_ALLOWED);
    if (/^\/(aws|ssm)/i.test(path)) fail(prop, 'must not start with the reserved "/aws" or "/ssm"', path);
    if (path.split('/').length - 1 > MAX_HIERARCHY_LEVELS) fail(prop, `must have at most ${MAX_HIERARCHY_LEVELS} levels`, path);
    validateOutsideSettingsRoot(prop, path);
  }
}
