import { Template } from 'aws-cdk-lib/assertions';
import { blueGreenProps, newPipelineStack } from './util';
import { MultiRegionPipeline } from '../../src';

/** Replaces asset hashes (which change with every handler change) with a placeholder. */
function withoutAssetHashes(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[0-9a-f]{64}/g, '<asset hash>');
  if (Array.isArray(value)) return value.map(withoutAssetHashes);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutAssetHashes(v)]));
  return value;
}

test('synthesizes the representative blue-green pipeline of the snapshot', () => {
  const stack = newPipelineStack();
  new MultiRegionPipeline(stack, 'Pipeline', {
    ...blueGreenProps(stack),
    manualApproval: true,
    deploymentWindow: { cron: '* * 9-16 ? * MON-THU', timeZone: 'Europe/Berlin' },
    parameterPrefix: '/genai-demo/production',
  });
  const template = Template.fromStack(stack).toJSON();
  expect(JSON.stringify(template)).toMatch(/[0-9a-f]{64}/);
  expect(withoutAssetHashes(template)).toMatchSnapshot();
});
