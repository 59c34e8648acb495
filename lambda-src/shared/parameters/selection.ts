import type { ParameterSelectionConfig } from './contract';
import { globToRegExp } from '../glob';
import { isSettingsParameter } from '../settings';

/**
 * Which parameters a replicator deployment copies (see `ParameterSelectionConfig`). The settings
 * documents this library writes (below `/cdk-cross-region-config`) are never selected.
 */
export class ParameterSelection {
  /** The paths to list, without any path that lies below another one (each listed once, recursively). */
  readonly roots: readonly string[];
  private readonly patterns: readonly RegExp[];
  private readonly excluded: readonly string[];
  private readonly tags: ReadonlyArray<[string, string]>;

  constructor(config: ParameterSelectionConfig) {
    const paths = [...new Set(config.paths.map(normalizePath))].sort();
    this.roots = paths.filter((p) => !paths.some((other) => other !== p && isBelow(p, other)));
    this.patterns = (config.namePatterns ?? []).map(globToRegExp);
    this.excluded = (config.excludedPaths ?? []).map(normalizePath);
    this.tags = Object.entries(config.tags ?? {});
  }

  /** True when the selection has a tag condition (tags must then be read to decide). */
  get needsTags(): boolean {
    return this.tags.length > 0;
  }

  /** Whether `name` is selected by path, pattern and exclusion (the tag condition is `matchesTags`). */
  selectsName(name: string): boolean {
    if (isSettingsParameter(name)) return false;
    if (!this.roots.some((root) => isBelow(name, root))) return false;
    if (this.excluded.some((path) => isBelow(name, path))) return false;
    return this.patterns.length === 0 || this.patterns.some((p) => p.test(name));
  }

  /** Whether the parameter's tags satisfy the tag condition. */
  matchesTags(tags: Readonly<Record<string, string>>): boolean {
    return this.tags.every(([key, value]) => tags[key] === value);
  }
}

/** `/a/b/` and `/a/b` name the same path; `/` stays `/`. */
export function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** True when `name` is `path` itself or lies below it. */
function isBelow(name: string, path: string): boolean {
  if (path === '/') return name.startsWith('/');
  return name === path || name.startsWith(`${path}/`);
}
