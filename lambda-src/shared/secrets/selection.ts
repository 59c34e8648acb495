import type { SelectionConfig, SelectionRuleConfig } from './contract';

/** What the selection can see of a secret. */
export interface SelectableSecret {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Whether a secret is selected for replication: any rule matches. The construct narrows the
 * EventBridge rule and IAM to the same selection; this check is the authoritative one (events
 * carry no tags, and a rule may over-match `name-` ARN prefixes).
 */
export function isSelected(selection: SelectionConfig, secret: SelectableSecret): boolean {
  return selection.rules.some((rule) => ruleMatches(rule, secret));
}

/**
 * Whether a secret is selected, decided from its name and ARN alone: `true` when a rule without
 * tags matches them, `false` when no rule can match them whatever the tags, `undefined` when the
 * answer depends on the secret's tags.
 */
export function selectedByIdentity(selection: SelectionConfig, secret: Omit<SelectableSecret, 'tags'>): boolean | undefined {
  let needsTags = false;
  for (const rule of selection.rules) {
    if (!identityOnlyMatches(rule, secret)) continue;
    if (Object.keys(rule.tags ?? {}).length > 0) needsTags = true;
    else if (ruleMatches(rule, { ...secret, tags: {} })) return true;
  }
  return needsTags ? undefined : false;
}

function identityOnlyMatches(rule: SelectionRuleConfig, secret: Omit<SelectableSecret, 'tags'>): boolean {
  const identityGiven = (rule.names?.length ?? 0) + (rule.arns?.length ?? 0) + (rule.namePrefixes?.length ?? 0) > 0;
  return !identityGiven
    || (rule.names ?? []).includes(secret.name)
    || (rule.arns ?? []).some((arn) => arn === secret.arn || partialArnMatches(arn, secret.arn))
    || (rule.namePrefixes ?? []).some((prefix) => secret.name.startsWith(prefix));
}

function ruleMatches(rule: SelectionRuleConfig, secret: SelectableSecret): boolean {
  const identityGiven = (rule.names?.length ?? 0) + (rule.arns?.length ?? 0) + (rule.namePrefixes?.length ?? 0) > 0;
  const identityMatches = identityOnlyMatches(rule, secret);
  const tagsMatch = Object.entries(rule.tags ?? {}).every(([key, value]) => secret.tags[key] === value);
  return identityMatches && tagsMatch && (identityGiven || Object.keys(rule.tags ?? {}).length > 0);
}

/** A partial ARN (no random suffix, as from `Secret.fromSecretNameV2`) matches the full ARN. */
function partialArnMatches(partial: string, full: string): boolean {
  return full.length === partial.length + 7 && full.startsWith(`${partial}-`);
}

/** The secret name inside a Secrets Manager ARN, without the 6-character random suffix. */
export function nameFromArn(arn: string): string | undefined {
  const match = /^arn:[^:]+:secretsmanager:[^:]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn);
  return match?.[1];
}

/** ListSecrets accepts at most 10 values per filter. */
const MAX_FILTER_VALUES = 10;

/**
 * Server-side narrowing of the primary listing: when every rule names secrets or name prefixes, list
 * only those (the `name` filter is a case-insensitive prefix match, so `isSelected` still decides).
 * Rules by ARN or by tags alone cannot be expressed as one name filter: then list everything.
 */
export function primaryListFilters(selection: SelectionConfig): Array<{ Key: 'name'; Values: string[] }> | undefined {
  const names: string[] = [];
  for (const rule of selection.rules) {
    const identities = [...(rule.names ?? []), ...(rule.namePrefixes ?? [])];
    if (identities.length === 0 || (rule.arns?.length ?? 0) > 0) return undefined;
    names.push(...identities);
  }
  const values = [...new Set(names)];
  return values.length > 0 && values.length <= MAX_FILTER_VALUES ? [{ Key: 'name', Values: values }] : undefined;
}
