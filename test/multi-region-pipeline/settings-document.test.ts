import { Template } from 'aws-cdk-lib/assertions';
import { minimalProps, newPipelineStack } from './util';
import { HealthCheck, MultiRegionPipeline } from '../../src';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { SETTINGS_DOCUMENT_ENV } from '../../src/private/settings-contract';

describe('MultiRegionPipeline settings', () => {
  test('synthesizes 200 health checks: the health-check function reads them from its own settings document', () => {
    const stack = newPipelineStack();
    const healthChecks = Array.from({ length: 200 }, (_, i) => HealthCheck.http(`https://service-${i}.{region}.example.com/health`, { name: `service-${i}` }));
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), healthChecks });
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function');
    const [healthCheck] = Object.entries(functions).filter(([id]) => id.startsWith('PipelineHealthCheck')).map(([, r]) => r as any);
    const [watcher] = Object.entries(functions).filter(([id]) => id.startsWith('PipelineWatcher')).map(([, r]) => r as any);
    expect(healthCheck.Properties.Environment.Variables[PipelineEnv.HEALTH_CHECKS]).toBeUndefined();
    expect(healthCheck.Properties.Environment.Variables[SETTINGS_DOCUMENT_ENV]).toBeDefined();
    expect(watcher.Properties.Environment.Variables[SETTINGS_DOCUMENT_ENV]).toBeUndefined();
    const parameters = Object.keys(template.findResources('AWS::SSM::Parameter')).filter((id) => id.startsWith('PipelineHealthCheckSettingsChunk'));
    expect(parameters.length).toBeGreaterThan(5);
    expect(pipeline.settingsParameters).toHaveLength(parameters.length);
  });
});
