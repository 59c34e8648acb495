import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SecretSelection } from './secret-selection';
import { ProvenanceTag, SelectionConfig, SelectionRuleConfig } from './secrets-contract';
import { SelectionRule } from './selection-rule';

/**
 * Turns a `SecretSelection` into what the construct deploys: the handler's `SelectionConfig`, the
 * IAM resources in the primary and replica regions, and the event pattern values that narrow the
 * CloudTrail rule. Internal; not exported from the package.
 */

/** Suffix Secrets Manager appends to a secret's name in its ARN: a hyphen and six random characters. */
export const ARN_SUFFIX_WILDCARD = '-??????';

/** The fields of a Secrets Manager CloudTrail event that carry the identity of the secret. */
export const EVENT_NAME_FIELDS = ['requestParameters.secretId', 'requestParameters.name'] as const;
export const EVENT_ARN_FIELDS = [
  'requestParameters.secretId',
  'responseElements.arn',
  // CloudTrail spells the response field `aRN` for some Secrets Manager calls.
  'responseElements.aRN',
  // Rotation service events (RotationSucceeded) name the secret here.
  'additionalEventData.SecretId',
] as const;

/** A value of an event pattern field: an exact string or a `{ prefix }` matcher. */
export type EventMatcher = string | { prefix: string };

/** How a selected `ISecret` is identified. */
interface SecretIdentity {
  /** Complete ARN (with the random suffix), when known. */
  readonly fullArn?: string;
  /** ARN that may lack the random suffix. */
  readonly arn: string;
  /** Secret name; may be a token. */
  readonly name: string;
}

function identify(secret: secretsmanager.ISecret): SecretIdentity {
  return { fullArn: secret.secretFullArn, arn: secret.secretArn, name: secret.secretName };
}

/** Binds a selection to the stack it is deployed in. */
export class BoundSelection {
  private readonly stack: Stack;

  constructor(private readonly selection: SecretSelection, scope: Stack) {
    this.stack = scope;
  }

  /** The rules of the selection. */
  public get rules(): SelectionRule[] {
    return this.selection._rules;
  }

  /** True when some rule selects by tags alone, so neither event pattern nor IAM can narrow by name. */
  public get hasTagOnlyRule(): boolean {
    return this.rules.some(isTagOnly);
  }

  /**
   * True when some selected secret's name is only known at deploy time (a secret created in this
   * app without a literal name): its replicas cannot be named in IAM resources.
   */
  public get hasUnnamedSecret(): boolean {
    return this.rules.some((r) => (r.secrets ?? []).some((s) => Token.isUnresolved(s.secretName)));
  }

  /** The handler's `SecretSelection` environment value (before JSON encoding). */
  public toConfig(): SelectionConfig {
    return {
      rules: this.rules.map((rule): SelectionRuleConfig => {
        const names = [...(rule.names ?? [])];
        const arns: string[] = [];
        for (const secret of rule.secrets ?? []) {
          const id = identify(secret);
          if (id.fullArn) {
            arns.push(id.fullArn);
          } else {
            names.push(id.name);
          }
        }
        return {
          ...(names.length > 0 ? { names } : {}),
          ...(arns.length > 0 ? { arns } : {}),
          ...(rule.namePrefixes ? { namePrefixes: [...rule.namePrefixes] } : {}),
          ...(rule.tags ? { tags: { ...rule.tags } } : {}),
        };
      }),
    };
  }

  /** ARN of a secret (or ARN pattern, with `resourceName` ending in a wildcard) in `region`. */
  public secretArn(region: string, resourceName: string): string {
    return this.stack.formatArn({
      service: 'secretsmanager',
      region,
      resource: 'secret',
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * Read statements on the selected secrets in the primary region: one for all rules without tags
   * (by ARN pattern), and one per tagged rule with `secretsmanager:ResourceTag/<key>` conditions.
   */
  public primaryReadStatements(primaryRegion: string, actions: string[]): iam.PolicyStatement[] {
    return this.readStatements(primaryRegion, actions, true);
  }

  /**
   * Read statements on the selection's replicas in a replica region (their names are the primary's):
   * like `primaryReadStatements`, with the secrets of this app named by their secret names, and
   * those whose name is a deploy-time token limited to secrets with the provenance tag
   * `sourceRegionTag` = `primaryRegion`.
   *
   * With `deploymentId` (the replicas are written by a replicator that tags them with it), replicas
   * selected by tags are read by that provenance tag instead of the selection's tags: replicas need
   * not carry the primary's tags (`replicateTags: false`), and another deployment's replicas that
   * happen to carry the selected tags are not readable.
   */
  public replicaReadStatements(
    region: string, primaryRegion: string, actions: string[], sourceRegionTag: string, deploymentId?: string,
  ): iam.PolicyStatement[] {
    const statements = this.readStatements(region, actions, false, deploymentId !== undefined ? managedBy(primaryRegion, deploymentId) : undefined);
    if (this.hasUnnamedSecret) {
      statements.push(new iam.PolicyStatement({
        actions,
        resources: [this.secretArn(region, '*')],
        conditions: {
          StringEquals: deploymentId !== undefined
            ? managedBy(primaryRegion, deploymentId)
            : { [`secretsmanager:ResourceTag/${sourceRegionTag}`]: primaryRegion },
        },
      }));
    }
    return statements;
  }

  /**
   * Statements for the writes to replicas that cannot be named in IAM (see `needsProvenanceScope`),
   * in `regions`, for the deployment `deploymentId`:
   * - CreateSecret only with the request tags `source-region` = `primaryRegion` and `deployment` =
   *   `deploymentId`;
   * - TagResource with those request tags on a secret that carries no `source-region` tag: the
   *   TagResource Secrets Manager also authorizes for CreateSecret with tags, where the new secret is
   *   not taken to carry the request's tags yet;
   * - DescribeSecret on a secret that carries no `source-region` tag (or does not exist), so the
   *   handler can tell a missing replica from one it must not touch;
   * - every other write action only on secrets carrying both provenance tags of this deployment.
   */
  public provenanceScopedWriteStatements(
    regions: string[], primaryRegion: string, deploymentId: string, writeActions: string[],
  ): iam.PolicyStatement[] {
    const anyReplica = regions.map((region) => this.secretArn(region, '*'));
    const requestTags = {
      [`aws:RequestTag/${ProvenanceTag.SOURCE_REGION}`]: primaryRegion,
      [`aws:RequestTag/${ProvenanceTag.DEPLOYMENT}`]: deploymentId,
    };
    const unmanaged = { [`secretsmanager:ResourceTag/${ProvenanceTag.SOURCE_REGION}`]: 'true' };
    return [
      new iam.PolicyStatement({ actions: ['secretsmanager:CreateSecret'], resources: anyReplica, conditions: { StringEquals: requestTags } }),
      new iam.PolicyStatement({ actions: ['secretsmanager:TagResource'], resources: anyReplica, conditions: { StringEquals: requestTags, Null: unmanaged } }),
      new iam.PolicyStatement({ actions: ['secretsmanager:DescribeSecret'], resources: anyReplica, conditions: { Null: unmanaged } }),
      new iam.PolicyStatement({
        actions: writeActions.filter((a) => a !== 'secretsmanager:CreateSecret'),
        resources: anyReplica,
        conditions: { StringEquals: managedBy(primaryRegion, deploymentId) },
      }),
    ];
  }

  private readStatements(region: string, actions: string[], primary: boolean, replicaTags?: { [key: string]: string }): iam.PolicyStatement[] {
    const untagged: string[] = [];
    const statements: iam.PolicyStatement[] = [];
    for (const rule of this.rules) {
      const resources = this.ruleResources(rule, region, primary);
      if (rule.tags) {
        const conditions: { [key: string]: string } = { ...replicaTags };
        for (const [key, value] of Object.entries(replicaTags ? {} : rule.tags)) {
          conditions[`secretsmanager:ResourceTag/${key}`] = value;
        }
        statements.push(new iam.PolicyStatement({
          actions,
          resources: resources.length > 0 ? resources : [this.secretArn(region, '*')],
          conditions: { StringEquals: conditions },
        }));
      } else {
        untagged.push(...resources);
      }
    }
    if (untagged.length > 0) {
      statements.unshift(new iam.PolicyStatement({ actions, resources: dedupe(untagged) }));
    }
    return statements;
  }

  /**
   * ARN patterns of the selection's replicas in `region` that can be named (names, prefixes and
   * secrets with a literal name). Tag-only rules and unnamed secrets are not included: their
   * replicas are scoped by the provenance tag instead (see `needsProvenanceScope`).
   */
  public replicaResources(region: string): string[] {
    return dedupe(this.rules.flatMap((rule) => this.ruleResources(rule, region, false)));
  }

  /** True when some replicas can only be scoped by the provenance tag (see `replicaResources`). */
  public get needsProvenanceScope(): boolean {
    return this.hasTagOnlyRule || this.hasUnnamedSecret;
  }

  /**
   * Values for each secret-identity field of the CloudTrail event, or `undefined` when the selection
   * has a tag-only rule (events carry no tags, so the rule cannot narrow and the handler filters).
   *
   * @param arnBase ARN prefix of secrets in the primary region, up to and including `:secret:`
   */
  public eventMatchers(arnBase: string): Map<string, EventMatcher[]> | undefined {
    if (this.hasTagOnlyRule) {
      return undefined;
    }
    const byField = new Map<string, Map<string, EventMatcher>>();
    const add = (fields: readonly string[], matcher: EventMatcher) => {
      for (const field of fields) {
        const values = byField.get(field) ?? new Map<string, EventMatcher>();
        values.set(JSON.stringify(matcher), matcher);
        byField.set(field, values);
      }
    };
    for (const rule of this.rules) {
      for (const name of rule.names ?? []) {
        add(EVENT_NAME_FIELDS, name);
        add(EVENT_ARN_FIELDS, { prefix: `${arnBase}${name}-` });
      }
      for (const prefix of rule.namePrefixes ?? []) {
        add(EVENT_NAME_FIELDS, { prefix });
        add(EVENT_ARN_FIELDS, { prefix: `${arnBase}${prefix}` });
      }
      for (const secret of rule.secrets ?? []) {
        const id = identify(secret);
        add(EVENT_NAME_FIELDS, id.name);
        add(EVENT_ARN_FIELDS, id.fullArn ?? { prefix: `${id.arn}-` });
      }
    }
    // Emit fields in a fixed order so the pattern (and the template) is deterministic.
    const ordered = new Map<string, EventMatcher[]>();
    for (const field of [...EVENT_NAME_FIELDS, ...EVENT_ARN_FIELDS]) {
      const values = byField.get(field);
      if (values && !ordered.has(field)) {
        ordered.set(field, [...values.values()]);
      }
    }
    return ordered;
  }

  /**
   * ARN patterns one rule grants in `region`. In the primary region an `ISecret` is its own ARN; in a
   * replica region it is named by its secret name, unless that is a token.
   */
  private ruleResources(rule: SelectionRule, region: string, primary: boolean): string[] {
    const resources: string[] = [];
    for (const name of rule.names ?? []) {
      resources.push(this.secretArn(region, `${name}${ARN_SUFFIX_WILDCARD}`));
    }
    for (const prefix of rule.namePrefixes ?? []) {
      resources.push(this.secretArn(region, `${prefix}*`));
    }
    for (const secret of rule.secrets ?? []) {
      const id = identify(secret);
      if (primary) {
        resources.push(id.fullArn ?? `${id.arn}${ARN_SUFFIX_WILDCARD}`);
      } else if (!Token.isUnresolved(id.name)) {
        resources.push(this.secretArn(region, `${id.name}${ARN_SUFFIX_WILDCARD}`));
      }
    }
    return resources;
  }
}

/** Conditions on the provenance tags of the replicas one deployment manages. */
function managedBy(primaryRegion: string, deploymentId: string): { [key: string]: string } {
  return {
    [`secretsmanager:ResourceTag/${ProvenanceTag.SOURCE_REGION}`]: primaryRegion,
    [`secretsmanager:ResourceTag/${ProvenanceTag.DEPLOYMENT}`]: deploymentId,
  };
}

/** True when a rule names no secret, prefix or name, only tags. */
export function isTagOnly(rule: SelectionRule): boolean {
  return !rule.names?.length && !rule.namePrefixes?.length && !rule.secrets?.length && !!rule.tags;
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}
