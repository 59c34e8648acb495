import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNagFindings, INLINE_POLICY_REASON, NIST_800_53_R5, wildcardResourceFinding } from '../core/nag';
import { grantRunHandOver } from '../core/run-handover';

/** Inputs of `grantScanHandOver`. */
export interface ScanHandOverProps {
  readonly handler: lambda.IFunction;
  readonly role: iam.IRole;
  readonly serviceName: string;
  readonly reportBucket: s3.IBucket;
  readonly reportPrefix: string;
}

/**
 * Lets a drift scan that needs longer than one invocation hand the rest over to the next
 * (README, "Large selections"): the run lease and the self-invocation (`grantRunHandOver`), and the
 * parts of a scan in progress, which each invocation that hands over writes to
 * `<reportPrefix>parts/` and the one that completes the scan reads and deletes
 * (`s3:GetObject`, `s3:DeleteObject`; `s3:PutObject` on the prefix is the report's own grant).
 * Internal.
 */
export function grantScanHandOver(scope: Construct, props: ScanHandOverProps): void {
  grantRunHandOver(scope, { handler: props.handler, role: props.role, serviceName: props.serviceName });
  const parts = props.reportBucket.arnForObjects(`${props.reportPrefix}parts/*`);
  const policy = new iam.Policy(scope, 'ScanPartsPolicy', {
    roles: [props.role],
    statements: [new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [parts] })],
  });
  props.reportBucket.encryptionKey?.grantDecrypt(props.role);
  acknowledgeNagFindings(policy, { id: `${NIST_800_53_R5}-IAMNoInlinePolicy`, reason: INLINE_POLICY_REASON }, {
    id: wildcardResourceFinding(policy, parts),
    reason: `A scan in progress keeps one object per invocation under ${props.reportPrefix}parts/<scan id>/ of the report bucket, `
      + 'read back and deleted by the invocation that completes the scan; the names are not known before the scan starts.',
  });
}
