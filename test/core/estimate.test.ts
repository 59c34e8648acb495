import { App, Aws, Stack, Token } from 'aws-cdk-lib';
import { estimateJson, UNKNOWN_VALUE_LENGTH } from '../../src/private/estimate';

describe('estimateJson', () => {
  test('renders literal values exactly', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'us-east-1' } });
    expect(estimateJson(stack, { a: ['b', 1] })).toEqual({ json: '{"a":["b",1]}', approximate: false });
  });

  test('replaces pseudo parameters with typical values', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const arn = `arn:${Aws.PARTITION}:secretsmanager:${stack.region}:${Aws.ACCOUNT_ID}:secret:x`;
    expect(estimateJson(stack, arn)).toEqual({ json: '"arn:aws:secretsmanager:eu-west-1:xxxxxxxxxxxx:secret:x"', approximate: false });
  });

  test('uses the stack account when it is known', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1', account: '111122223333' } });
    expect(estimateJson(stack, `${Aws.ACCOUNT_ID}`).json).toBe('"111122223333"');
  });

  test('counts other deploy-time values as the given length and says so', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const ref = Token.asString({ Ref: 'Secret' });
    expect(estimateJson(stack, `a${ref}`)).toEqual({ json: `"a${'x'.repeat(UNKNOWN_VALUE_LENGTH)}"`, approximate: true });
    expect(estimateJson(stack, `a${ref}`, 0)).toEqual({ json: '"a"', approximate: true });
  });
});
