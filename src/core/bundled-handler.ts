import { Annotations, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { AlarmSet } from './alarms';
import { HandlerOptions, ParameterStoreThroughput } from './handler-options';
import { DEFAULT_MAX_EVENT_AGE, DEFAULT_RETRY_ATTEMPTS, HardenedFunction, hardenedFunction } from './hardened-function';
import { acknowledgeHandlerFindings } from './nag';
import { PARAMETER_STORE_THROUGHPUT_ENV } from './run-contract';
import { HandlerSettings } from '../private/handler-settings';
import { validateRegionName, validationError, WARNING } from '../private/validation';

/**
 * What every construct of this library does for its bundled Lambda handler, once: the explicit
 * region check, the `service` name of its metrics, the hardened function (role, log group,
 * dead-letter queue and the security options of `HandlerOptions`), the handler's configuration
 * (environment, and settings documents for what outgrows Lambda's 4 KB environment), event targets,
 * the settings parameter of the Parameter Store document layout, the standard alarms' set with its
 * actions, and the cdk-nag acknowledgements every handler shares.
 *
 * It creates into the construct's own scope under the construct's existing ids (`Role`, `LogGroup`,
 * `DeadLetterQueue`, `Settings`, `Handler`, `ConfigParameter`), so logical ids do not move. Internal.
 */

/** `Names.uniqueResourceName` length of the `service` dimension (and `POWERTOOLS_SERVICE_NAME`). */
export const SERVICE_NAME_MAX_LENGTH = 64;

/** The props every construct with a bundled handler accepts about it. */
export interface BundledHandlerOptions extends HandlerOptions {
  readonly functionName?: string;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly createAlarms?: boolean;
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/** Inputs of `BundledHandler`. */
export interface BundledHandlerProps {
  /** The construct's props. */
  readonly options: BundledHandlerOptions;
  /** Description of the function (and its role and queue). */
  readonly description: string;
  /** Memory when `options.memorySize` is not set, in MiB. */
  readonly defaultMemoryMiB: number;
  /** Timeout when `options.timeout` is not set. */
  readonly defaultTimeout: Duration;
}

/** A generated `XxxFunction` class of a bundled handler. */
export type BundledFunctionClass = new (scope: Construct, id: string, props: lambda.FunctionOptions) => lambda.Function;

/** The handler's configuration: what `HandlerSettings` puts in the environment or, when it outgrows it, in settings documents. */
export interface HandlerConfiguration {
  /** Used in the settings parameters' descriptions, e.g. `the ConfigMap syncer <path>`. */
  readonly description: string;
  readonly environment: { [key: string]: string };
  readonly growable?: { [key: string]: unknown };
}

/**
 * The stack region of `scope`, which must be explicit: `<constructName> needs a stack with an
 * explicit region (env.region), but got an environment-agnostic stack` otherwise.
 */
export function explicitRegion(scope: Construct, constructName: string): string {
  const region = Stack.of(scope).region;
  if (Token.isUnresolved(region)) {
    throw validationError(`${constructName} needs a stack with an explicit region (env.region), but got an environment-agnostic stack`);
  }
  validateRegionName('the stack region', region);
  return region;
}

/**
 * The stack account and region of `scope`, which must both be explicit, for a construct that
 * deploys to other regions: `<constructName> needs a stack with an explicit account and region (env),
 * because it deploys to other regions, but got account ... and region ...` otherwise.
 */
export function explicitAccountAndRegion(scope: Construct, constructName: string): { account: string; region: string } {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.region) || Token.isUnresolved(stack.account)) {
    throw validationError(`${constructName} needs a stack with an explicit account and region (env), because it deploys to other regions, `
      + `but got account ${Token.isUnresolved(stack.account) ? 'unresolved' : JSON.stringify(stack.account)} and region `
      + `${Token.isUnresolved(stack.region) ? 'unresolved' : JSON.stringify(stack.region)}`);
  }
  return { account: stack.account, region: stack.region };
}

/** The `service` dimension value of a construct's handler metrics: unique to it and stable across deployments. */
export function handlerServiceName(scope: Construct): string {
  return Names.uniqueResourceName(scope, { maxLength: SERVICE_NAME_MAX_LENGTH });
}

/** Warns (with this library's warning-id prefix) when `alarmActions` are given but `createAlarms` is false. */
export function warnAboutIgnoredAlarmActions(scope: Construct, options: { createAlarms?: boolean; alarmActions?: cloudwatch.IAlarmAction[] }): void {
  if (options.alarmActions?.length && !(options.createAlarms ?? true)) {
    Annotations.of(scope).addWarningV2(`${WARNING}alarmActionsIgnored`, 'alarmActions are ignored because createAlarms is false: no alarm is created.');
  }
}

/** One construct's bundled handler, created step by step into the construct's own scope. */
export class BundledHandler {
  /** Value of the `service` dimension of the handler's metrics. */
  public readonly serviceName: string;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly deadLetterQueue: sqs.Queue;
  /** The construct's alarms; empty and disabled when `createAlarms` is false. */
  public readonly alarmSet: AlarmSet;
  private readonly hardened: HardenedFunction;
  private _handler?: lambda.Function;
  private _settingsParameters: ssm.IStringParameter[] = [];

  /** Creates the role, log group and dead-letter queue (ids `Role`, `LogGroup`, `DeadLetterQueue`); the function follows with `createFunction()`. */
  constructor(private readonly scope: Construct, private readonly props: BundledHandlerProps) {
    const options = props.options;
    warnAboutIgnoredAlarmActions(scope, options);
    this.serviceName = handlerServiceName(scope);
    this.hardened = hardenedFunction(scope, {
      description: props.description,
      functionName: options.functionName,
      memorySize: options.memorySize ?? props.defaultMemoryMiB,
      timeout: options.timeout ?? props.defaultTimeout,
      logRetention: options.logRetention,
      vpc: options.vpc,
      vpcSubnets: options.vpcSubnets,
      securityGroups: options.securityGroups,
      logGroupEncryptionKey: options.logGroupEncryptionKey,
      deadLetterQueueEncryptionKey: options.deadLetterQueueEncryptionKey,
      reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    });
    this.role = this.hardened.role;
    this.logGroup = this.hardened.logGroup;
    this.deadLetterQueue = this.hardened.deadLetterQueue;
    this.alarmSet = new AlarmSet(scope, options.createAlarms ?? true);
  }

  /** The function; set by `createFunction()`. */
  public get handler(): lambda.Function {
    if (!this._handler) throw new Error('BundledHandler.createFunction() has not been called');
    return this._handler;
  }

  /** Parameters of the handler's settings documents; empty while every setting fits in the environment. */
  public get settingsParameters(): ssm.IStringParameter[] {
    return [...this._settingsParameters];
  }

  /**
   * Creates the handler's configuration (`Settings`) and the function (`Handler`) that reads it,
   * and acknowledges the cdk-nag findings every handler shares.
   */
  public createFunction(functionClass: BundledFunctionClass, configuration: HandlerConfiguration): lambda.Function {
    // Absent for the standard throughput, so templates of handlers that do not set it stay the same.
    const throughput: { [name: string]: string } = this.props.options.parameterStoreThroughput === ParameterStoreThroughput.HIGHER
      ? { [PARAMETER_STORE_THROUGHPUT_ENV]: ParameterStoreThroughput.HIGHER } : {};
    const settings = new HandlerSettings(this.scope, 'Settings', {
      ...configuration, environment: { ...configuration.environment, ...throughput }, growable: configuration.growable ?? {},
    });
    const handler = new functionClass(this.scope, 'Handler', { ...this.hardened.options, environment: settings.environment });
    this._handler = handler;
    this._settingsParameters = settings.parameters;
    settings.grantRead(handler);
    acknowledgeHandlerFindings({ handler, role: this.role, logGroup: this.logGroup, deadLetterQueue: this.deadLetterQueue }, this.props.options);
    return handler;
  }

  /** An EventBridge target that invokes the handler with `event`, retries twice and dead-letters to the queue. */
  public target(event?: events.RuleTargetInput): targets.LambdaFunction {
    return new targets.LambdaFunction(this.handler, {
      event,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: DEFAULT_RETRY_ATTEMPTS,
      maxEventAge: DEFAULT_MAX_EVENT_AGE,
    });
  }

  /**
   * The construct's settings parameter (`ConfigParameter`) of the Parameter Store document layout,
   * holding `document` as JSON; `undefined` when `parameterName` is.
   */
  public settingsParameter(parameterName: string | undefined, label: string, document: { [key: string]: any }): ssm.StringParameter | undefined {
    if (parameterName === undefined) return undefined;
    return new ssm.StringParameter(this.scope, 'ConfigParameter', {
      parameterName,
      description: `Settings of ${label}`.slice(0, 1024),
      tier: ssm.ParameterTier.STANDARD,
      stringValue: Stack.of(this.scope).toJsonString(document),
    });
  }

  /** Adds `alarmActions` of the props to every alarm created so far (call after the alarms). */
  public addConfiguredAlarmActions(): void {
    const actions = this.props.options.alarmActions;
    if (actions?.length) this.alarmSet.addAlarmAction(...actions);
  }
}
