import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { HandlerOptions } from './handler-options';

/**
 * Acknowledgements of cdk-nag findings on the resources our constructs create.
 *
 * cdk-nag 3.x dropped `NagSuppressions`: a finding is acknowledged with aws-cdk-lib's
 * `Validations.of(scope).acknowledge({ id, reason })`, which records `{ [id]: reason }` under the
 * construct metadata key `Validations.ACKNOWLEDGED_RULES_METADATA_KEY` (`aws:cdk:acknowledged-rules`).
 * cdk-nag walks from each CfnResource up to the root and skips a finding whose id is recorded on the
 * resource or one of its ancestors. Ids are exact: a rule that reports several findings per resource
 * (IAM4, IAM5) is acknowledged per finding, `AwsSolutions-IAM5[Resource::<flattened ARN>]`; there is
 * no prefix matching. With `writeSuppressionsToCloudFormation`, cdk-nag copies the same records into
 * the template as `Metadata.cdk_nag.rules_to_suppress`.
 *
 * Every acknowledgement here is placed on the narrowest construct that owns the finding, and carries
 * a reason specific to that finding; a blank reason is a programming error and throws.
 */

/** The cdk-nag AwsSolutions pack's rule id prefix. */
export const AWS_SOLUTIONS = 'AwsSolutions';
/** The cdk-nag Serverless pack's rule id prefix. */
export const SERVERLESS = 'Serverless';
/** The cdk-nag NIST 800-53 rev 5 pack's rule id prefix. */
export const NIST_800_53_R5 = 'NIST.800.53.R5';

/** Why an inline policy is the right place for a handler role's statements (NIST IAMNoInlinePolicy). */
export const INLINE_POLICY_REASON = 'The statements are this construct\'s least-privilege grants to its own role, scoped to the resources it manages; '
  + 'an inline policy lives and dies with the role and cannot be attached to any other principal, which a managed policy could.';

/** Why a provenance key secret keeps the AWS managed key (NIST SecretsManagerUsingKMSKey). */
export const PROVENANCE_KEY_ENCRYPTION_REASON = 'The provenance key is encrypted with the AWS managed key aws/secretsmanager and read only by this '
  + 'construct\'s handler role; it protects no data (it keys content-hash tags), so a customer managed key would add a key policy to manage '
  + 'without narrowing who can read it.';

/** The resources of one handler (see `hardenedFunction()`), for `acknowledgeHandlerFindings()`. */
export interface HandlerNagResources {
  readonly handler: IConstruct;
  readonly role: IConstruct;
  readonly logGroup: IConstruct;
  readonly deadLetterQueue: IConstruct;
}

/**
 * Acknowledges the Serverless and NIST 800-53 R5 findings that every handler of this library has
 * with the options it was built with. The security options (`vpc`, `logGroupEncryptionKey`,
 * `reservedConcurrentExecutions`) fix their findings; without them the finding is acknowledged with
 * the option that fixes it.
 */
export function acknowledgeHandlerFindings(resources: HandlerNagResources, options: HandlerOptions): void {
  const pinned = 'The runtime is pinned to nodejs22.x, the Node.js major the bundled handler is built and tested on; it moves with a release of this library.';
  acknowledgeNagFindings(resources.handler,
    { id: `${SERVERLESS}-LambdaLatestVersion`, reason: pinned },
    {
      id: `${SERVERLESS}-LambdaAsyncFailureDestination`,
      reason: 'Failed asynchronous invocations go to the handler\'s dead-letter queue (DeadLetterConfig), whose message is the original event, '
        + 'so it can be redriven to the handler unchanged; an on-failure destination would wrap it in an invocation record. Its depth is alarmed '
        + 'by default.',
    });
  if (!options.vpc) {
    acknowledgeNagFindings(resources.handler, {
      id: `${NIST_800_53_R5}-LambdaInsideVPC`,
      reason: 'The handler accepts no connection and needs no private resource of a VPC: it calls AWS APIs in several regions (interface '
        + 'endpoints serve only their own region) and, for some handlers, EKS API servers or the application\'s health URLs. Set vpc to run it '
        + 'in a VPC with a route to those.',
    });
  }
  if (options.reservedConcurrentExecutions === undefined) {
    acknowledgeNagFindings(resources.handler, {
      id: `${NIST_800_53_R5}-LambdaConcurrency`,
      reason: 'The handler is invoked only by this construct\'s own EventBridge rules or pipeline actions, whose rate their sources bound, '
        + 'and its throttles are alarmed by default; set reservedConcurrentExecutions to reserve or cap its concurrency.',
    });
  }
  if (!options.logGroupEncryptionKey) {
    acknowledgeNagFindings(resources.logGroup, {
      id: `${NIST_800_53_R5}-CloudWatchLogGroupEncrypted`,
      reason: 'CloudWatch Logs encrypts the log group at rest with keys it manages, and the handler logs no secret or configuration value; '
        + 'set logGroupEncryptionKey to use a customer managed key.',
    });
  }
  acknowledgeNagFindings(resources.role, { id: `${NIST_800_53_R5}-IAMNoInlinePolicy`, reason: INLINE_POLICY_REASON });
  acknowledgeNagFindings(resources.deadLetterQueue, {
    id: `${SERVERLESS}-SQSRedrivePolicy`,
    reason: 'This queue is the dead-letter queue of the handler and its rules: its messages are inspected and redriven by an operator, '
      + 'not consumed, so it has no dead-letter queue of its own. Its depth is alarmed by default.',
  });
}

/** One acknowledged cdk-nag finding. */
export interface NagAcknowledgement {
  /** Exact finding id, e.g. `AwsSolutions-L1` or `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** Why the finding is acceptable for this resource. */
  readonly reason: string;
}

/** Acknowledges cdk-nag findings on `scope` (and so on every resource below it). */
export function acknowledgeNagFindings(scope: IConstruct, ...acknowledgements: NagAcknowledgement[]): void {
  for (const ack of acknowledgements) {
    if (ack.reason.trim().length === 0) {
      throw new Error(`acknowledgement of ${ack.id} must have a reason, but got ${JSON.stringify(ack.reason)}`);
    }
    // `Validations.acknowledge()` treats `::` as its own "<plugin>::<rule>" separator and throws
    // `InvalidValidationId` when an id has more than one. Every IAM4/IAM5 finding on an ARN built
    // from pseudo parameters has several (`Resource::arn:<AWS::Partition>:...<AWS::AccountId>...`),
    // so those are recorded under the same metadata key, in the shape `acknowledge()` writes; cdk-nag
    // and aws-cdk-lib's report filter read every entry of that key.
    if (ack.id.split('::').length <= 2) {
      Validations.of(scope).acknowledge({ id: ack.id, reason: ack.reason });
    } else {
      scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [ack.id]: ack.reason });
    }
  }
}

/**
 * Acknowledges one finding until the returned function is called, for a finding that a later call
 * can fix (an alarm without action until `addAlarmAction()`), so no acknowledgement outlives its
 * finding. The record is the same metadata entry `acknowledgeNagFindings()` writes; revoking empties
 * it. cdk-nag reads the entries when it validates, and synthesis writes them as they are then.
 */
export function acknowledgeNagFindingUntilFixed(scope: IConstruct, ack: NagAcknowledgement): () => void {
  if (ack.reason.trim().length === 0) {
    throw new Error(`acknowledgement of ${ack.id} must have a reason, but got ${JSON.stringify(ack.reason)}`);
  }
  const record: Record<string, string> = { [ack.id]: ack.reason };
  scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, record);
  return () => {
    delete record[ack.id];
  };
}

/**
 * The id cdk-nag's AwsSolutions-IAM5 reports for a wildcard resource of a policy statement, e.g.
 * `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:eu-west-1:<AWS::AccountId>:secret:app/*]`.
 * `resource` is the string passed to `PolicyStatement.resources`; tokens are resolved and flattened
 * the way cdk-nag flattens them (`Ref` to `<Name>`, `Fn::GetAtt` to `<Name.Attr>`, joins concatenated).
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `${AWS_SOLUTIONS}-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(resource))}]`;
}

/** The id cdk-nag's AwsSolutions-IAM4 reports for an AWS managed policy ARN attached to a role. */
export function managedPolicyFinding(scope: IConstruct, managedPolicyArn: string): string {
  return `${AWS_SOLUTIONS}-IAM4[Policy::${flattenReference(Stack.of(scope).resolve(managedPolicyArn))}]`;
}

/** Flattens a resolved CloudFormation value into the string cdk-nag uses in finding ids. */
export function flattenReference(node: unknown): string {
  if (node === undefined) {
    return '';
  }
  if (typeof node === 'string') {
    // cdk-nag renders Fn::Sub's `${Name}` as `<Name>`.
    return node.replace(/\${/g, '<').replace(/}/g, '>');
  }
  if (typeof node === 'object' && node !== null) {
    const obj = node as Record<string, any>;
    if (obj['Fn::Join']) {
      const [delimiter, items] = obj['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (obj['Fn::Sub']) {
      return flattenReference(obj['Fn::Sub']);
    }
    if (obj['Fn::GetAtt']) {
      const [resource, attribute] = obj['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (obj['Fn::ImportValue']) {
      return flattenReference(obj['Fn::ImportValue']);
    }
    if (obj.Ref) {
      return `<${flattenReference(obj.Ref)}>`;
    }
  }
  return JSON.stringify(node);
}
