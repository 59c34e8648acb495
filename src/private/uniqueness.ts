import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { describe, fail } from './validation';

/**
 * Names that must be unique in an app, checked at synth rather than at deploy: Lambda function
 * names and settings-document (SSM parameter) names in one account and region, and one-stop
 * constructs per project and environment in one account. Each claim is recorded on the app (the
 * root of the construct tree), so two stacks of one app see each other's claims; the second
 * construct to claim a name fails, naming the first one's path.
 *
 * An account or region only known at deploy time counts as the same as every other unknown one:
 * account-agnostic stacks of one app normally deploy to one account.
 */

interface Claim {
  readonly path: string;
}

const CLAIMS = new WeakMap<IConstruct, Map<string, Claim>>();

function claims(scope: IConstruct): Map<string, Claim> {
  const root = scope.node.root;
  let map = CLAIMS.get(root);
  if (!map) {
    map = new Map();
    CLAIMS.set(root, map);
  }
  return map;
}

/** `account/region` of `scope`'s stack, with `*` for a part only known at deploy time. */
function environmentOf(scope: IConstruct): { account: string; region: string } {
  const stack = Stack.of(scope);
  return {
    account: Token.isUnresolved(stack.account) ? '*' : stack.account,
    region: Token.isUnresolved(stack.region) ? '*' : stack.region,
  };
}

/**
 * Records `key` for `scope`; fails when another construct recorded it before, with `rule(otherPath)`
 * naming the prop and why it must differ.
 */
function claim(scope: IConstruct, key: string, prop: string, received: unknown, rule: (otherPath: string) => string): void {
  const map = claims(scope);
  const previous = map.get(key);
  if (previous && previous.path !== scope.node.path) {
    fail(prop, rule(previous.path), received);
  }
  map.set(key, { path: scope.node.path });
}

/** Fails when another construct of this library in the app already names a function `functionName` in the same account and region. */
export function claimFunctionName(scope: IConstruct, prop: string, functionName: string | undefined): void {
  if (functionName === undefined || Token.isUnresolved(functionName)) return;
  const { account, region } = environmentOf(scope);
  claim(scope, `function:${account}:${region}:${functionName}`, prop, functionName, (other) =>
    `must differ from the function name of ${other}: Lambda function names are unique in an account and region`);
}

/**
 * Fails when another construct of this library in the app already writes the settings parameter
 * `parameterName` in the same account and region. `prop` and `received` name what chose the name
 * (usually `parameterPrefix`).
 */
export function claimParameterName(scope: IConstruct, prop: string, received: unknown, parameterName: string | undefined): void {
  if (parameterName === undefined || Token.isUnresolved(parameterName)) return;
  const { account, region } = environmentOf(scope);
  claim(scope, `parameter:${account}:${region}:${parameterName}`, prop, received, (other) =>
    `must differ from that of ${other}: both would write the settings parameter ${describe(parameterName)} in ${region === '*' ? 'the same region' : region}`);
}

/** Fails when another one-stop construct in the app already serves `projectName` and `environment` in the same account. */
export function claimProject(scope: IConstruct, projectName: string, environment: string): void {
  if (Token.isUnresolved(projectName) || Token.isUnresolved(environment)) return;
  const { account } = environmentOf(scope);
  claim(scope, `project:${account}:${projectName}:${environment}`, 'projectName and environment', { projectName, environment }, (other) =>
    `must differ from those of ${other}: one CrossRegionConfigManagement serves every region of a project and environment`);
}
