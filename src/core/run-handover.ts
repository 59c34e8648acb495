import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeNagFindings, INLINE_POLICY_REASON, NIST_800_53_R5, wildcardResourceFinding } from './nag';
import { RUN_LEASE_PATH_PREFIX } from './run-contract';

/** Inputs of `grantRunHandOver`. */
export interface RunHandOverProps {
  /** The function whose runs hand over to itself. */
  readonly handler: lambda.IFunction;
  /** Its role. */
  readonly role: iam.IRole;
  /** The `service` dimension of its metrics (`POWERTOOLS_SERVICE_NAME`), which names its lease records. */
  readonly serviceName: string;
}

/**
 * Lets a handler's long runs hand over to the next invocation (see
 * `lambda-src/shared/continuation.ts` and `lease.ts`): `lambda:InvokeFunction` on the function
 * itself, and the Parameter Store records of its run lease under
 * `/cdk-cross-region-config/runs/<service>`. Created as its own policy (`HandOverPolicy`) so that
 * the function, which depends on its role's default policy, does not depend on a policy naming it.
 * Internal.
 *
 * @example
 * grantRunHandOver(this, { handler: this.handler, role: this.role, serviceName: this.serviceName });
 */
export function grantRunHandOver(scope: Construct, props: RunHandOverProps): iam.Policy {
  const stack = Stack.of(scope);
  const path = `${RUN_LEASE_PATH_PREFIX}/${props.serviceName}`;
  const parameter = (name: string) => stack.formatArn({
    service: 'ssm', resource: 'parameter', resourceName: name.slice(1), arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const records = parameter(`${path}/*`);
  const policy = new iam.Policy(scope, 'HandOverPolicy', {
    roles: [props.role],
    statements: [
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.handler.functionArn] }),
      new iam.PolicyStatement({ actions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameters'], resources: [records] }),
      new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources: [parameter(path)] }),
    ],
  });
  acknowledgeNagFindings(policy, { id: `${NIST_800_53_R5}-IAMNoInlinePolicy`, reason: INLINE_POLICY_REASON }, {
    id: wildcardResourceFinding(policy, records),
    reason: `The run lease is a chain of one parameter per generation under ${path}/ (created, read, extended and deleted by the `
      + 'handler only); the path is this construct\'s own.',
  });
  return policy;
}
