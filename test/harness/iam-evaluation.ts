import { runSimulation, Simulation } from '@cloud-copilot/iam-simulate';
import { MOTO_ACCOUNT, RecordedCall, RecordedKey } from './iam-recorder';

/**
 * Offline IAM evaluation: the calls a handler made (recorded by test/harness/iam-recorder.ts, or
 * written by hand for the negative sets) are evaluated against the role policies of a synthesized
 * template with @cloud-copilot/iam-simulate.
 *
 * The simulator evaluates one request against the policies it is given. It does not derive the
 * authorizations AWS performs on the caller's behalf or implies, so {@link authorizationsOf} maps
 * them explicitly:
 * - CreateSecret with `Tags` is also authorized as `secretsmanager:TagResource` (documented by
 *   Secrets Manager). Whether AWS counts the request's tags as the new secret's resource tags is not
 *   documented, so CreateSecret and its TagResource are evaluated under both readings: without
 *   resource tags, and with the request tags as resource tags; each must be allowed.
 * - BatchGetSecretValue is authorized as `secretsmanager:GetSecretValue` on every secret it returns.
 * - Secrets Manager uses a customer managed KMS key on the caller's behalf: `kms:Decrypt` to read a
 *   value, `kms:GenerateDataKey` and `kms:Decrypt` to write one, with `kms:ViaService` =
 *   `secretsmanager.<region>.amazonaws.com` and the encryption context key `SecretARN`
 *   (`kms:EncryptionContextKeys`; the simulator ignores `kms:EncryptionContext:<key>`, which no policy
 *   here uses). Parameter Store likewise with `ssm.<region>.amazonaws.com` and `PARAMETER_ARN`. The AWS managed keys
 *   (`aws/secretsmanager`, `aws/ssm`) allow this through their own key policies and are not evaluated.
 * - The simulator does not know the condition keys `secretsmanager:ResourceTag/<key>`; they are
 *   rewritten to `aws:ResourceTag/<key>` (the same tags of the same secret) in the policies, and the
 *   resource's tags are given as `aws:ResourceTag/<key>`.
 */

/** What an evaluation needs to know about the deployed stack. */
export interface EvaluationTarget {
  /** The synthesized template (`Template.toJSON()`). */
  readonly template: any;
  /** Logical id of the role whose policies are evaluated. */
  readonly roleLogicalId: string;
  /** Values of `Ref` and `Fn::GetAtt` (`Id.Attribute`) to resources of the template. */
  readonly references?: Record<string, string>;
  /** Region of the stack (for `AWS::Region`). */
  readonly region: string;
}

/** One IAM authorization a call needs. */
export interface Authorization {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  /** What the authorization stands for, for messages: the call, and the implied authorization if any. */
  readonly describe: string;
  /** The KMS key the authorization is on, when it is a KMS one (for the key policy). */
  readonly kmsKey?: RecordedKey;
}

/** Outcome of one authorization. */
export interface Evaluated extends Authorization {
  readonly allowed: boolean;
  /** Context keys the simulator ignored as not applicable to the action (a sign of a wrong mapping). */
  readonly ignoredContextKeys: string[];
}

/** The authorizations AWS performs for one recorded call (see the module comment for the implied ones). */
export function authorizationsOf(call: RecordedCall): Authorization[] {
  const partitionSuffix = 'amazonaws.com';
  const base = (action: string, resource: string, resourceTags: Record<string, string> | undefined, label: string): Authorization => ({
    action,
    resource,
    context: {
      'aws:RequestedRegion': call.region,
      ...tagContext('aws:ResourceTag/', resourceTags),
      ...tagContext('aws:RequestTag/', call.requestTags),
      ...(call.requestTags ? { 'aws:TagKeys': Object.keys(call.requestTags) } : {}),
      ...(call.removedTagKeys ? { 'aws:TagKeys': call.removedTagKeys } : {}),
      ...call.context,
    },
    describe: `${call.action} ${call.resource} in ${call.region}${label}${call.test ? ` (test: ${call.test})` : ''}`,
  });
  const kms = (action: string, key: RecordedKey, service: 'secretsmanager' | 'ssm', contextKey: string, _contextValue: string, label: string): Authorization => ({
    action,
    resource: key.arn,
    context: {
      'aws:RequestedRegion': call.region,
      'kms:ViaService': `${service}.${call.region}.${partitionSuffix}`,
      'kms:CallerAccount': MOTO_ACCOUNT,
      // The value (`kms:EncryptionContext:<key>`) is left out: the simulator reports the key as not
      // applicable to the action and ignores it; no policy of this library conditions on it.
      'kms:EncryptionContextKeys': [contextKey],
      'kms:ResourceAliases': key.aliases,
    },
    describe: `${action} on ${key.arn} by ${service} for ${call.action} ${call.resource} in ${call.region}${label}${call.test ? ` (test: ${call.test})` : ''}`,
    kmsKey: key,
  });

  const out: Authorization[] = [];
  if (call.action === 'secretsmanager:CreateSecret') {
    // Reading 1: the new secret has no tags when CreateSecret is authorized; reading 2: its tags are the request's.
    for (const [resourceTags, reading] of [[undefined, ' [new secret without resource tags]'], [call.requestTags ?? {}, ' [request tags as resource tags]']] as const) {
      out.push(base(call.action, call.resource, resourceTags, reading));
      if (call.requestTags && Object.keys(call.requestTags).length > 0) {
        out.push(base('secretsmanager:TagResource', call.resource, resourceTags, ` implies TagResource${reading}`));
      }
    }
  } else if (call.action === 'secretsmanager:BatchGetSecretValue') {
    out.push(base(call.action, '*', undefined, ''));
    for (const s of call.batchSecrets ?? []) {
      out.push({ ...base('secretsmanager:GetSecretValue', s.arn, s.tags, ' implied by BatchGetSecretValue'), describe: `GetSecretValue ${s.arn} implied by BatchGetSecretValue in ${call.region}` });
      if (s.kmsKey) out.push(kms('kms:Decrypt', s.kmsKey, 'secretsmanager', 'SecretARN', s.arn, ' implied by BatchGetSecretValue'));
    }
  } else {
    out.push(base(call.action, call.resource, call.resourceTags, ''));
  }

  if (call.kmsKey && call.action.startsWith('secretsmanager:')) {
    if (call.action === 'secretsmanager:GetSecretValue') {
      out.push(kms('kms:Decrypt', call.kmsKey, 'secretsmanager', 'SecretARN', call.resource, ''));
    } else if (call.writesValue) {
      out.push(kms('kms:GenerateDataKey', call.kmsKey, 'secretsmanager', 'SecretARN', call.resource, ''));
      out.push(kms('kms:Decrypt', call.kmsKey, 'secretsmanager', 'SecretARN', call.resource, ''));
    }
  }
  if (call.kmsKey && call.action.startsWith('ssm:')) {
    const action = call.action === 'ssm:PutParameter' ? 'kms:Encrypt' : 'kms:Decrypt';
    out.push(kms(action, call.kmsKey, 'ssm', 'PARAMETER_ARN', call.resource, ''));
  }
  return out;
}

/** Evaluates `authorizations` against the role's policies (and, for KMS, the key policy). */
export async function evaluate(target: EvaluationTarget, authorizations: Authorization[]): Promise<Evaluated[]> {
  const resolver = new TemplateResolver(target);
  const identityPolicies = resolver.rolePolicies(target.roleLogicalId).map((policy, i) => ({ name: `policy${i}`, policy: mapConditionKeys(policy) }));
  const principal = `arn:aws:iam::${MOTO_ACCOUNT}:role/${target.roleLogicalId}`;
  const results: Evaluated[] = [];
  for (const auth of authorizations) {
    const resourcePolicy = auth.action.startsWith('kms:') && auth.resource !== '*' ? resolver.keyPolicy(auth.resource)
      // A role in another account: its trust policy allows this role, as the construct documents it must.
      : auth.action === 'sts:AssumeRole' ? trustPolicyFor(principal)
        : undefined;
    const simulation: Simulation = {
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      request: {
        principal,
        action: auth.action,
        resource: { accountId: accountOf(auth.resource), resource: auth.resource },
        contextVariables: auth.context,
      },
    } as Simulation;
    const response: any = await runSimulation(simulation, {});
    if (response.resultType === 'error') {
      throw new Error(`the IAM simulator rejected the request for ${auth.describe}: ${JSON.stringify(response.errors)}`);
    }
    const result = response.resultType === 'single' ? response.result : response.results[0];
    results.push({
      ...auth,
      allowed: response.overallResult === 'Allowed',
      ignoredContextKeys: result?.ignoredContextKeys ?? response.ignoredContextKeys ?? [],
    });
  }
  return results;
}

/** Per-role counts for the printed summary. */
export interface EvaluationSummary {
  readonly role: string;
  calls: number;
  authorizations: number;
  allowed: number;
  denied: number;
  negatives: number;
  deniedAsExpected: number;
  allowedNegatives: number;
  skippedAssumedRole: number;
}

/** One line of the summary, e.g. `replicator: 120 calls, 180 authorizations, 180 allowed, 0 denied; 14 negatives, 14 denied as expected`. */
export function formatSummary(s: EvaluationSummary): string {
  return `IAM evaluation ${s.role}: ${s.calls} recorded calls (${s.skippedAssumedRole} made with an assumed role, not evaluated), `
    + `${s.authorizations} authorizations, ${s.allowed} allowed, ${s.denied} denied; `
    + `${s.negatives} negatives, ${s.deniedAsExpected} denied as expected, ${s.allowedNegatives} allowed`;
}

/**
 * Evaluates recorded calls (each must be allowed) and negative authorizations (each must be
 * denied) for one role, and returns the summary and the failures as readable lines.
 */
export async function evaluateRole(
  role: string,
  target: EvaluationTarget,
  calls: RecordedCall[],
  negatives: Authorization[] = [],
  expectDenied: (call: RecordedCall) => string | undefined = () => undefined,
): Promise<{ summary: EvaluationSummary; deniedCalls: string[]; allowedNegatives: string[]; ignoredKeys: string[] }> {
  const own = calls.filter((c) => c.principal === 'handler');
  const recordedNegatives = own.filter((c) => expectDenied(c) !== undefined);
  const positives = await evaluate(target, dedupe(own.filter((c) => expectDenied(c) === undefined).flatMap(authorizationsOf)));
  const negativeResults = await evaluate(target, [
    ...negatives,
    // A recorded call the handler makes knowing AWS may deny it is a negative: the base authorization must be denied.
    ...dedupe(recordedNegatives.map((c) => {
      const auth = authorizationsOf(c)[0];
      return { ...auth, describe: `must deny (${expectDenied(c)}): ${auth.describe}` };
    })),
  ]);
  const deniedCalls = positives.filter((r) => !r.allowed).map((r) => r.describe);
  const allowedNegatives = negativeResults.filter((r) => r.allowed).map((r) => r.describe);
  const ignoredKeys = [...new Set([...positives, ...negativeResults].flatMap((r) => r.ignoredContextKeys.map((k) => `${r.action}: ${k}`)))];
  return {
    summary: {
      role,
      calls: calls.length,
      authorizations: positives.length,
      allowed: positives.length - deniedCalls.length,
      denied: deniedCalls.length,
      negatives: negativeResults.length,
      deniedAsExpected: negativeResults.length - allowedNegatives.length,
      allowedNegatives: allowedNegatives.length,
      skippedAssumedRole: calls.length - own.length,
    },
    deniedCalls: [...new Set(deniedCalls)],
    allowedNegatives,
    ignoredKeys,
  };
}

/** Context of a hand-written authorization: the resource's tags, the request's tags and other keys. */
export interface ScenarioContext {
  readonly resourceTags?: Record<string, string>;
  readonly requestTags?: Record<string, string>;
  readonly other?: Record<string, string | string[]>;
}

/** A negative authorization: a request the role must not be allowed to make. */
export function negative(describe: string, action: string, resource: string, region: string, context: ScenarioContext = {}): Authorization {
  return scenario(`must deny: ${describe}`, action, resource, region, context);
}

/** A hand-written authorization, for requests the suites cannot make against the emulator. */
export function scenario(describe: string, action: string, resource: string, region: string, context: ScenarioContext = {}): Authorization {
  return {
    action,
    resource,
    describe,
    context: {
      'aws:RequestedRegion': region,
      ...tagContext('aws:ResourceTag/', context.resourceTags),
      ...tagContext('aws:RequestTag/', context.requestTags),
      ...(context.requestTags ? { 'aws:TagKeys': Object.keys(context.requestTags) } : {}),
      ...context.other,
    },
  };
}

function trustPolicyFor(principal: string): any {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }] };
}

function tagContext(prefix: string, tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`${prefix}${k}`, v]));
}

function dedupe(auths: Authorization[]): Authorization[] {
  const seen = new Map<string, Authorization>();
  for (const a of auths) {
    const key = JSON.stringify([a.action, a.resource, a.context]);
    if (!seen.has(key)) seen.set(key, a);
  }
  return [...seen.values()];
}

function accountOf(arn: string): string {
  return /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? MOTO_ACCOUNT;
}

/** Rewrites `secretsmanager:ResourceTag/<key>` (unknown to the simulator) to `aws:ResourceTag/<key>`. */
function mapConditionKeys(policy: any): any {
  return JSON.parse(JSON.stringify(policy).replace(/"secretsmanager:ResourceTag\//gi, '"aws:ResourceTag/'));
}

/** Resolves the CloudFormation intrinsics of a synthesized template to concrete values. */
class TemplateResolver {
  private readonly resources: Record<string, any>;

  constructor(private readonly target: EvaluationTarget) {
    this.resources = target.template.Resources ?? {};
  }

  /** Every policy document attached to the role: its inline policies and the AWS::IAM::Policy resources naming it. */
  public rolePolicies(roleLogicalId: string): any[] {
    const role = this.resources[roleLogicalId];
    if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role of the template`);
    const inline = (role.Properties.Policies ?? []).map((p: any) => p.PolicyDocument);
    const attached = Object.values(this.resources)
      .filter((r: any) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: any) => x?.Ref === roleLogicalId))
      .map((r: any) => r.Properties.PolicyDocument);
    return [...inline, ...attached].map((doc) => this.resolve(doc));
  }

  /**
   * The key policy of a KMS key of the template with this ARN; for any other key the default key
   * policy (the account may use the key as its IAM policies allow), which is what keys created
   * outside the stack have in the tests.
   */
  public keyPolicy(keyArn: string): any {
    for (const [id, r] of Object.entries(this.resources)) {
      if ((r as any).Type === 'AWS::KMS::Key' && this.reference(id, 'Arn') === keyArn) {
        return this.resolve((r as any).Properties.KeyPolicy);
      }
    }
    return {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountOf(keyArn)}:root` }, Action: 'kms:*', Resource: '*' }],
    };
  }

  public resolve(value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = value[fn];
      if (fn === 'Ref') return this.ref(arg);
      if (fn === 'Fn::GetAtt') return this.reference(arg[0], arg[1]);
      if (fn === 'Fn::Join') return (this.resolve(arg[1]) as any[]).join(arg[0]);
      if (fn === 'Fn::Select') return this.resolve(arg[1])[Number(this.resolve(arg[0]))];
      if (fn === 'Fn::Split') return String(this.resolve(arg[1])).split(arg[0]);
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(value[k])]));
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return this.target.region;
      case 'AWS::AccountId': return MOTO_ACCOUNT;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return 'Stack';
      default: return this.reference(name);
    }
  }

  private reference(id: string, attribute?: string): string {
    const key = attribute ? `${id}.${attribute}` : id;
    const given = this.target.references?.[key];
    if (given !== undefined) return given;
    const r = this.resources[id];
    // Values nothing was given for resolve to names that match no request, so a grant that depends
    // on them shows up as a denial instead of passing by accident.
    if (r?.Type === 'AWS::KMS::Key' && attribute === 'Arn') return `arn:aws:kms:${this.target.region}:${MOTO_ACCOUNT}:key/${id}`;
    if (r?.Type === 'AWS::SQS::Queue' && attribute === 'Arn') return `arn:aws:sqs:${this.target.region}:${MOTO_ACCOUNT}:${id}`;
    if (r?.Type === 'AWS::SNS::Topic' && !attribute) return `arn:aws:sns:${this.target.region}:${MOTO_ACCOUNT}:${id}`;
    if (r?.Type === 'AWS::SSM::Parameter' && !attribute && typeof r.Properties?.Name === 'string') return r.Properties.Name;
    if (r?.Type === 'AWS::S3::Bucket') return attribute === 'Arn' ? `arn:aws:s3:::${id.toLowerCase()}` : id.toLowerCase();
    if (r?.Type === 'AWS::SecretsManager::Secret' && !attribute) return `arn:aws:secretsmanager:${this.target.region}:${MOTO_ACCOUNT}:secret:${id}-AbCdEf`;
    return `unresolved:${key}`;
  }
}

/** One configuration of a suite: the calls made under it and the stack that deploys it. */
export interface EvaluationGroup {
  /** Name in the summary, e.g. `replicator (prefix and tags)`. */
  readonly role: string;
  readonly target: EvaluationTarget;
  readonly calls: RecordedCall[];
  readonly negatives?: Authorization[];
  /**
   * Recorded calls the handler makes knowing AWS denies them (it handles AccessDenied): returns the
   * reason for such a call. They count as negatives and must be denied.
   */
  readonly expectDenied?: (call: RecordedCall) => string | undefined;
}

/**
 * Evaluates every group; returns the summary lines and the failures (denied recorded calls,
 * allowed negatives, context keys the simulator ignored), each as a readable line.
 */
export async function evaluateGroups(groups: EvaluationGroup[]): Promise<{ summary: string[]; failures: string[] }> {
  const summary: string[] = [];
  const failures: string[] = [];
  const total: EvaluationSummary = {
    role: 'total', calls: 0, authorizations: 0, allowed: 0, denied: 0, negatives: 0, deniedAsExpected: 0, allowedNegatives: 0, skippedAssumedRole: 0,
  };
  for (const group of groups) {
    const result = await evaluateRole(group.role, group.target, group.calls, group.negatives, group.expectDenied);
    summary.push(formatSummary(result.summary));
    for (const key of Object.keys(total) as Array<keyof EvaluationSummary>) {
      if (key !== 'role') (total as any)[key] += result.summary[key];
    }
    failures.push(...result.deniedCalls.map((d) => `${group.role}: denied: ${d}`));
    failures.push(...result.allowedNegatives.map((d) => `${group.role}: allowed: ${d}`));
    failures.push(...result.ignoredKeys.map((k) => `${group.role}: the simulator ignored the context key ${k}`));
  }
  if (groups.length > 1) summary.push(formatSummary(total));
  return { summary, failures };
}
