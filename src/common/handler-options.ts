import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';

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
}
