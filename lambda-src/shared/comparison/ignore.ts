import type { IgnoreRuleConfig, ResourceKindName } from '../../../src/core/comparison-contract';
import { globToRegExp } from '../glob';

interface CompiledRule {
  readonly kind: ResourceKindName;
  readonly name: RegExp;
  readonly key?: RegExp;
  readonly regions?: ReadonlySet<string>;
}

/** The expected differences: decides which items, and which ConfigMap keys, are not compared. */
export class IgnoreRules {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly IgnoreRuleConfig[]) {
    this.rules = rules.map((r) => ({
      kind: r.kind,
      name: globToRegExp(r.namePattern),
      ...(r.keyPattern !== undefined ? { key: globToRegExp(r.keyPattern) } : {}),
      ...(r.regions?.length ? { regions: new Set(r.regions) } : {}),
    }));
  }

  /** Whether the whole item is ignored in `region`. */
  ignoresItem(kind: ResourceKindName, name: string, region: string): boolean {
    return this.rules.some((r) => r.kind === kind && !r.key && this.applies(r, region) && r.name.test(name));
  }

  /** Whether one data key of an item (a ConfigMap key) is ignored in `region`. */
  ignoresKey(kind: ResourceKindName, name: string, key: string, region: string): boolean {
    return this.rules.some((r) => r.kind === kind && r.key !== undefined && this.applies(r, region) && r.name.test(name) && r.key.test(key));
  }

  private applies(rule: CompiledRule, region: string): boolean {
    return rule.regions === undefined || rule.regions.has(region);
  }
}
