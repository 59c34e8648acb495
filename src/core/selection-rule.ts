import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * One rule of a `SecretSelection` (internal; not exported from the package).
 *
 * A secret matches when it matches any of `names`, `namePrefixes` or `secrets` (or none of them is
 * set) and it carries every tag in `tags`; the same semantics as the contract's `SelectionRuleConfig`.
 */
export interface SelectionRule {
  readonly names?: string[];
  readonly namePrefixes?: string[];
  readonly secrets?: secretsmanager.ISecret[];
  readonly tags?: { [key: string]: string };
}
