import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { REGION_PLACEHOLDER, SLOT_PLACEHOLDER, TrafficSwitchConfig } from './contract';
import { fail, validateIntegerRange, validateLength, validatePattern } from '../private/validation';

/** A record name: DNS labels, optionally with `{region}`, optionally ending with a dot. */
const RECORD_NAME = /^(\*\.)?([A-Za-z0-9_-]+|\{region\})([.-]([A-Za-z0-9_-]+|\{region\}))*\.?$/;
const SET_IDENTIFIER = /^[\x20-\x7E]{1,128}$/;
const PARAMETER_NAME = /^(\/?[A-Za-z0-9_.-]+|\/?\{region\})(\/([A-Za-z0-9_.-]*\{region\}[A-Za-z0-9_.-]*|[A-Za-z0-9_.-]+))*$/;
const DEFAULT_LIVE_WEIGHT = 100;

/** A Route 53 weighted record pair per region, one record per slot. */
export interface Route53WeightedRecordsOptions {
  /** The hosted zone holding the records. */
  readonly hostedZone: route53.IHostedZone;

  /**
   * Fully qualified name of the pair, with `{region}` when each region has its own pair, for example
   * `api.{region}.example.com`.
   */
  readonly recordName: string;

  /**
   * Type of both records.
   *
   * @default route53.RecordType.A
   */
  readonly recordType?: route53.RecordType;

  /**
   * Set identifier of the blue (home) slot's record.
   *
   * @default 'blue'
   */
  readonly blueSetIdentifier?: string;

  /**
   * Set identifier of the green (candidate) slot's record.
   *
   * @default 'green'
   */
  readonly greenSetIdentifier?: string;

  /**
   * Weight given to the live record (1 to 255); the other record gets 0.
   *
   * @default 100
   */
  readonly liveWeight?: number;
}

/** An SSM parameter per region naming the live slot, for applications that route themselves. */
export interface SsmParameterSwitchOptions {
  /**
   * Name of the String parameter, written in each region; its value is `blue` or `green`. May contain
   * `{region}`.
   */
  readonly parameterName: string;
}

/**
 * How a region's user traffic moves between its two slots under blue-green.
 *
 * @example
 * declare const zone: route53.IHostedZone;
 * const weighted = TrafficSwitch.route53WeightedRecords({ hostedZone: zone, recordName: 'api.{region}.example.com' });
 * const parameter = TrafficSwitch.ssmParameter({ parameterName: '/my-service/live-slot' });
 */
export abstract class TrafficSwitch {
  /**
   * A pair of weighted records per region (same name and type, set identifiers per slot): the live
   * slot's record gets `liveWeight`, the other 0, in one atomic change. The records must exist
   * (typically created by the application's stages). The switch waits until Route 53 reports the
   * change INSYNC; clients see it after the records' TTL.
   */
  public static route53WeightedRecords(options: Route53WeightedRecordsOptions): TrafficSwitch {
    return new Route53WeightedSwitch(options);
  }

  /**
   * A String parameter per region whose value is the live slot (`blue` or `green`); the
   * application reads it (for example through the AWS AppConfig agent or a short cache) and routes
   * itself. The switch creates the parameter if it does not exist.
   */
  public static ssmParameter(options: SsmParameterSwitchOptions): TrafficSwitch {
    return new SsmParameterSwitch(options);
  }

  /** The kind of switch, as written in the gitops-config document: `route53-weighted` or `ssm-parameter`. */
  public abstract readonly switchType: string;

  /** @internal */
  public abstract _render(): TrafficSwitchConfig;

  /** @internal Grants the switch function what it needs to move traffic in `regions`. */
  public abstract _grant(role: iam.IRole, regions: string[], account: string, partition: string): void;
}

class Route53WeightedSwitch extends TrafficSwitch {
  public readonly switchType = 'route53-weighted';
  private readonly config: TrafficSwitchConfig;
  constructor(private readonly options: Route53WeightedRecordsOptions) {
    super();
    if (Token.isUnresolved(options.recordName)) fail('TrafficSwitch.route53WeightedRecords() recordName', 'must be a literal name, not a token resolved at deploy time', options.recordName);
    validateLength('TrafficSwitch.route53WeightedRecords() recordName', options.recordName, 1, 255);
    if (options.recordName.includes(SLOT_PLACEHOLDER)) fail('TrafficSwitch.route53WeightedRecords() recordName', `must not contain ${SLOT_PLACEHOLDER}: both slots share the name`, options.recordName);
    validatePattern('TrafficSwitch.route53WeightedRecords() recordName', options.recordName, RECORD_NAME, `must be a fully qualified DNS name, optionally with ${REGION_PLACEHOLDER}`);
    const blue = options.blueSetIdentifier ?? 'blue';
    const green = options.greenSetIdentifier ?? 'green';
    validatePattern('TrafficSwitch.route53WeightedRecords() blueSetIdentifier', blue, SET_IDENTIFIER, 'must be 1 to 128 printable ASCII characters');
    validatePattern('TrafficSwitch.route53WeightedRecords() greenSetIdentifier', green, SET_IDENTIFIER, 'must be 1 to 128 printable ASCII characters');
    if (blue === green) fail('TrafficSwitch.route53WeightedRecords() greenSetIdentifier', 'must differ from blueSetIdentifier', green);
    const liveWeight = options.liveWeight ?? DEFAULT_LIVE_WEIGHT;
    validateIntegerRange('TrafficSwitch.route53WeightedRecords() liveWeight', liveWeight, 1, 255);
    this.config = {
      type: 'route53-weighted',
      hostedZoneId: options.hostedZone.hostedZoneId,
      recordName: options.recordName,
      recordType: options.recordType ?? route53.RecordType.A,
      setIdentifiers: { blue, green },
      liveWeight,
    };
  }
  public _render(): TrafficSwitchConfig {
    return this.config;
  }
  public _grant(role: iam.IRole, regions: string[], _account: string, partition: string): void {
    // Route 53 is global: one zone ARN, and GetChange on change ids.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['route53:ListResourceRecordSets'],
      resources: [this.options.hostedZone.hostedZoneArn],
    }));
    // Changes only to this switch's records: its name in each region (as Route 53 normalizes names:
    // lower case, no trailing dot), its type, and UPSERT (the handler never creates or deletes records).
    const names = [...new Set(regions.map((region) => this.options.recordName.split(REGION_PLACEHOLDER).join(region).toLowerCase().replace(/\.$/, '')))];
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [this.options.hostedZone.hostedZoneArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': names,
          'route53:ChangeResourceRecordSetsRecordTypes': [this.options.recordType ?? route53.RecordType.A],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['route53:GetChange'],
      resources: [`arn:${partition}:route53:::change/*`],
    }));
  }
}

class SsmParameterSwitch extends TrafficSwitch {
  public readonly switchType = 'ssm-parameter';
  constructor(private readonly options: SsmParameterSwitchOptions) {
    super();
    if (Token.isUnresolved(options.parameterName)) fail('TrafficSwitch.ssmParameter() parameterName', 'must be a literal name, not a token resolved at deploy time', options.parameterName);
    validateLength('TrafficSwitch.ssmParameter() parameterName', options.parameterName, 1, 1011);
    validatePattern('TrafficSwitch.ssmParameter() parameterName', options.parameterName, PARAMETER_NAME,
      `must be a Parameter Store name of the characters A-Z a-z 0-9 _ . - and "/", optionally with ${REGION_PLACEHOLDER}`);
    if (/^\/?(aws|ssm)/i.test(options.parameterName)) fail('TrafficSwitch.ssmParameter() parameterName', 'must not start with the reserved "aws" or "ssm"', options.parameterName);
  }
  public _render(): TrafficSwitchConfig {
    return { type: 'ssm-parameter', parameterName: this.options.parameterName };
  }
  public _grant(role: iam.IRole, regions: string[], account: string, partition: string): void {
    const name = this.options.parameterName.replace(/^\//, '');
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter', 'ssm:PutParameter'],
      resources: regions.map((region) => `arn:${partition}:ssm:${region}:${account}:parameter/${name.split(REGION_PLACEHOLDER).join(region)}`),
    }));
  }
}

/** Options of the blue-green strategy. */
export interface BlueGreenOptions {
  /** How each region's traffic moves from the blue slot to the green one and back. */
  readonly trafficSwitch: TrafficSwitch;
}

/** The three ways the pipeline rolls out to the regions after the primary. */
export enum DeploymentStrategyKind {
  /** One region at a time, in order. */
  SEQUENTIAL = 'sequential',
  /** The primary, then every other region at once. */
  PARALLEL = 'parallel',
  /** One region at a time, each through a candidate slot, a traffic switch and a promotion. */
  BLUE_GREEN = 'blue-green',
}

/**
 * How the pipeline rolls out to the regions: the primary region always first.
 *
 * @example
 * declare const zone: route53.IHostedZone;
 * const sequential = DeploymentStrategy.sequential();
 * const blueGreen = DeploymentStrategy.blueGreen({
 *   trafficSwitch: TrafficSwitch.route53WeightedRecords({ hostedZone: zone, recordName: 'api.{region}.example.com' }),
 * });
 */
export class DeploymentStrategy {
  /** The primary region, then each other region in order, one pipeline stage each. */
  public static sequential(): DeploymentStrategy {
    return new DeploymentStrategy(DeploymentStrategyKind.SEQUENTIAL);
  }

  /** The primary region, then all other regions at once in one pipeline stage. */
  public static parallel(): DeploymentStrategy {
    return new DeploymentStrategy(DeploymentStrategyKind.PARALLEL);
  }

  /**
   * One region at a time; in each region the new version is deployed to the green (candidate)
   * slot, health-checked, given the traffic, baked, then deployed to the blue (home) slot, which
   * takes the traffic back. See the README for the model and what happens on each failure.
   */
  public static blueGreen(options: BlueGreenOptions): DeploymentStrategy {
    return new DeploymentStrategy(DeploymentStrategyKind.BLUE_GREEN, options.trafficSwitch);
  }

  private constructor(
    /** Which strategy this is. */
    public readonly kind: DeploymentStrategyKind,
    /** The traffic switch; set for blue-green only. */
    public readonly trafficSwitch?: TrafficSwitch,
  ) {}
}
