import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Estimates the deployed size of values that contain tokens, for checks against service limits
 * (EventBridge pattern size, IAM policy size) at synth time. Lambda environments are sized by
 * `HandlerSettings` (handler-settings.ts), which moves what does not fit to a settings document.
 */

/** Assumed length of a value only known at deploy time (an ARN is typically 80-100 characters). */
export const UNKNOWN_VALUE_LENGTH = 96;
/** Length of an AWS account id. */
const ACCOUNT_ID_LENGTH = 12;

/** Result of `estimateJson()`. */
export interface SizeEstimate {
  /** The JSON, with deploy-time values replaced by placeholders of their expected length. */
  readonly json: string;
  /** True when a value of unknown length was replaced by a placeholder. */
  readonly approximate: boolean;
}

/**
 * Renders `value` as the JSON string it becomes at deploy time. Pseudo parameters are replaced by
 * their known or typical values; any other deploy-time value by `unknownLength` characters (use 0
 * for a lower bound).
 */
export function estimateJson(scope: IConstruct, value: unknown, unknownLength: number = UNKNOWN_VALUE_LENGTH): SizeEstimate {
  const stack = Stack.of(scope);
  let approximate = false;
  const pseudo: { [name: string]: string | undefined } = {
    'AWS::Partition': Token.isUnresolved(stack.partition) ? 'aws' : stack.partition,
    'AWS::AccountId': Token.isUnresolved(stack.account) ? 'x'.repeat(ACCOUNT_ID_LENGTH) : stack.account,
    'AWS::Region': Token.isUnresolved(stack.region) ? undefined : stack.region,
    'AWS::URLSuffix': Token.isUnresolved(stack.urlSuffix) ? 'amazonaws.com' : stack.urlSuffix,
  };
  const unknown = () => {
    approximate = true;
    return 'x'.repeat(unknownLength);
  };
  const render = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      return node.map(render);
    }
    if (node === null || typeof node !== 'object') {
      return node;
    }
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return renderIntrinsic(keys[0], obj[keys[0]]);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      out[key] = render(obj[key]);
    }
    return out;
  };
  const renderIntrinsic = (fn: string, arg: unknown): string => {
    if (fn === 'Ref' && typeof arg === 'string' && pseudo[arg] !== undefined) {
      return pseudo[arg] as string;
    }
    if (fn === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
      return (arg[1] as unknown[]).map((part) => {
        const rendered = render(part);
        return typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
      }).join(String(arg[0]));
    }
    return unknown();
  };
  const json = JSON.stringify(render(stack.resolve(value)));
  return { json, approximate };
}
