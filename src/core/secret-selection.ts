import { Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SelectionRule } from './selection-rule';
import { fail, validateLength } from '../private/validation';

/** Longest secret name Secrets Manager accepts, in characters. */
const MAX_SECRET_NAME_LENGTH = 512;
/** Characters Secrets Manager allows in a secret name. */
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;
const SECRET_NAME_ALLOWED = 'must contain only the characters A-Z a-z 0-9 / _ + = . @ -';
/** Tag key and value length limits of Secrets Manager, in characters. */
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;

/**
 * Which secrets in the primary region are replicated.
 *
 * A selection is a list of rules with union semantics: a secret is replicated when it matches any
 * rule. Combine rules with `SecretSelection.anyOf()`.
 *
 * @example
 * declare const databaseSecret: secretsmanager.ISecret;
 * const selection = SecretSelection.anyOf(
 *   SecretSelection.fromSecrets(databaseSecret),
 *   SecretSelection.byNamePrefix('prod/app/'),
 *   SecretSelection.byTags({ replicate: 'true' }),
 * );
 */
export class SecretSelection {
  /**
   * Replicates the given secrets.
   *
   * A secret whose complete ARN is known (created in this app, or imported with
   * `Secret.fromSecretCompleteArn`) is matched by ARN; otherwise it is matched by its name.
   *
   * @param secrets the secrets, at least one
   */
  public static fromSecrets(...secrets: secretsmanager.ISecret[]): SecretSelection {
    if (secrets.length === 0) {
      fail('SecretSelection.fromSecrets() secrets', 'must not be empty', []);
    }
    return new SecretSelection([{ secrets: [...secrets] }]);
  }

  /**
   * Replicates the secrets with exactly these names.
   *
   * @param names secret names (not ARNs), at least one
   */
  public static fromNames(...names: string[]): SecretSelection {
    if (names.length === 0) {
      fail('SecretSelection.fromNames() names', 'must not be empty', []);
    }
    names.forEach((name, i) => validateSecretName(`SecretSelection.fromNames() names[${i}]`, name));
    return new SecretSelection([{ names: [...names] }]);
  }

  /**
   * Replicates every secret whose name starts with `prefix`, including secrets created later.
   *
   * @param prefix name prefix, for example `prod/app/`
   */
  public static byNamePrefix(prefix: string): SecretSelection {
    validateSecretName('SecretSelection.byNamePrefix() prefix', prefix);
    return new SecretSelection([{ namePrefixes: [prefix] }]);
  }

  /**
   * Replicates every secret that carries all of these tags with these values.
   *
   * Secrets Manager events carry no tags, so the event rule cannot narrow a tag-only selection: it
   * receives every Secrets Manager write in the primary region and the handler filters by tags.
   *
   * @param tags tag key to required value, at least one
   */
  public static byTags(tags: { [key: string]: string }): SecretSelection {
    validateTags('SecretSelection.byTags() tags', tags);
    return new SecretSelection([{ tags: { ...tags } }]);
  }

  /**
   * Replicates every secret whose name starts with `prefix` and that carries all of these tags.
   *
   * @param prefix name prefix, for example `prod/`
   * @param tags tag key to required value, at least one
   */
  public static byNamePrefixAndTags(prefix: string, tags: { [key: string]: string }): SecretSelection {
    validateSecretName('SecretSelection.byNamePrefixAndTags() prefix', prefix);
    validateTags('SecretSelection.byNamePrefixAndTags() tags', tags);
    return new SecretSelection([{ namePrefixes: [prefix], tags: { ...tags } }]);
  }

  /**
   * Replicates every secret selected by any of the given selections.
   *
   * @param selections the selections to combine, at least one
   */
  public static anyOf(...selections: SecretSelection[]): SecretSelection {
    if (selections.length === 0) {
      fail('SecretSelection.anyOf() selections', 'must not be empty', []);
    }
    return new SecretSelection(selections.flatMap((s) => s._rules));
  }

  /**
   * The rules of this selection; a secret is selected when it matches any of them.
   * @internal
   */
  public readonly _rules: SelectionRule[];

  private constructor(rules: SelectionRule[]) {
    this._rules = rules;
  }
}

/** Fails unless `name` is a valid secret name (or name prefix). */
function validateSecretName(prop: string, name: string): void {
  if (Token.isUnresolved(name)) {
    return;
  }
  validateLength(prop, name, 1, MAX_SECRET_NAME_LENGTH);
  if (!SECRET_NAME_PATTERN.test(name)) {
    fail(prop, SECRET_NAME_ALLOWED, name);
  }
}

/** Fails unless `tags` has at least one entry and every key and value fits Secrets Manager's limits. */
function validateTags(prop: string, tags: { [key: string]: string }): void {
  if (Token.isUnresolved(tags)) {
    return;
  }
  const keys = Object.keys(tags);
  if (keys.length === 0) {
    fail(prop, 'must not be empty', tags);
  }
  for (const key of keys) {
    if (Token.isUnresolved(key)) {
      continue;
    }
    validateLength(`${prop} key`, key, 1, MAX_TAG_KEY_LENGTH);
    if (key.toLowerCase().startsWith('aws:')) {
      fail(`${prop} key`, 'must not start with the reserved prefix "aws:"', key);
    }
    const value = tags[key];
    if (typeof value !== 'string') {
      fail(`${prop} value of ${JSON.stringify(key)}`, 'must be a string', value);
    }
    validateLength(`${prop} value of ${JSON.stringify(key)}`, value, 0, MAX_TAG_VALUE_LENGTH);
  }
}
