import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Parameter Store's throughput setting (`ssm/parameter-store/high-throughput-enabled`) in the
 * regions a handler reads parameters in. Handlers pace their Parameter Store reads to it.
 */
export enum ParameterStoreThroughput {
  /**
   * The default throughput: 40 `GetParameter`, `GetParameters` and `GetParametersByPath` calls a
   * second together, per account and region.
   */
  STANDARD = 'standard',
  /**
   * Higher throughput, turned on in every region the handler reads parameters in (charged per
   * call): 100 `GetParametersByPath` calls a second, and 3,000 `GetParameter` and `GetParameters`
   * calls a second together, per account and region.
   */
  HIGHER = 'higher',
}

/**
 * Options shared by every construct in this library that runs a Lambda handler.
 *
 * Each construct's props extend this interface; memory and timeout are declared on the construct's
 * own props because their defaults differ per handler.
 */
export interface HandlerOptions {
  /**
   * VPC to run the handler in.
   *
   * The handler calls AWS APIs in other regions, and interface VPC endpoints only serve their own
   * region, so the selected subnets need a route to the internet (a NAT gateway) or to the other
   * regions' endpoints.
   *
   * @default - the handler runs outside a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` to run the handler in. Only used with `vpc`.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the handler's network interfaces. Only used with `vpc`.
   *
   * @default - one new security group allowing all outbound traffic and no inbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * How long the handler's log group keeps log events.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Customer managed KMS key to encrypt the handler's log group with.
   *
   * CloudWatch Logs must be allowed to use the key. For a key defined in the same stack
   * (`new kms.Key`), the construct adds that statement to the key policy (the CloudWatch Logs service
   * principal of the stack's region, for log groups of the stack's account and region); for an
   * imported key, add it to the key's policy yourself.
   *
   * @default - encrypted by CloudWatch Logs with keys it manages
   */
  readonly logGroupEncryptionKey?: kms.IKey;

  /**
   * Customer managed KMS key to encrypt the handler's dead-letter queue with.
   *
   * The handler's role may encrypt with the key (Lambda sends failed asynchronous invocations with
   * it). For a key defined in the same stack, the construct also lets EventBridge use it for the
   * rules of the stack's account and region whose failed deliveries go to the queue; for an
   * imported key, add that statement to the key's policy yourself.
   *
   * @default - encrypted with SQS managed keys (SSE-SQS)
   */
  readonly deadLetterQueueEncryptionKey?: kms.IKey;

  /**
   * Concurrent executions reserved for the handler: at most this many run at once, and they are
   * never starved by other functions of the account. Must be at least 1.
   *
   * @default - no reservation: the handler shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Parameter Store's throughput setting in the regions the handler reads parameters in. The
   * handler paces its Parameter Store reads (listings, batch reads, its run lease and settings) to
   * 80% of that quota, shared by everything it runs at once, and slows down further when throttled.
   * Set `ParameterStoreThroughput.HIGHER` only after turning higher throughput on in the primary
   * and every replica region (`aws ssm update-service-setting --setting-id
   * arn:aws:ssm:<region>:<account>:servicesetting/ssm/parameter-store/high-throughput-enabled
   * --setting-value true`): large parameter selections are then listed 2.5 times as fast.
   *
   * @default ParameterStoreThroughput.STANDARD
   */
  readonly parameterStoreThroughput?: ParameterStoreThroughput;
}
