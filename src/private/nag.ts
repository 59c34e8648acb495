import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

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
