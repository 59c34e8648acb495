/**
 * Health checks and credentials at synth: plain http:// and user info are refused (the message names
 * the construct path and shows the URL redacted), credential-like query parameters get a warning, and
 * a header can take its value from a Secrets Manager secret, which only the health-check function
 * may read.
 */
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACCOUNT, minimalProps, newPipelineStack, PRIMARY } from './util';
import { HealthCheck, HealthCheckHeader, HealthCheckHeaderFromSecretOptions, MultiRegionPipeline } from '../../src';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { statementsAllowing } from '../secret-replicator/util';

/** A marker standing for a credential: must never appear in a message. */
const PASSWORD = 'Zq9-pa55-marker';

function build(healthChecks: (stack: Stack) => HealthCheck[]): { stack: Stack; pipeline: MultiRegionPipeline } {
  const stack = newPipelineStack();
  const pipeline = new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), healthChecks: healthChecks(stack) });
  return { stack, pipeline };
}

function message(body: () => unknown): string {
  try {
    body();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

const healthEnv = (template: Template): Record<string, any> => {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
  return fns.find((f) => f.Properties.Environment?.Variables?.[PipelineEnv.ROLE] === 'health-check').Properties.Environment.Variables;
};

describe('fails if a health-check URL', () => {
  test('uses plain http://, naming the construct path, the prop, the value and what is allowed', () => {
    expect(message(() => build(() => [HealthCheck.http('http://api.{region}.example.com/health')]))).toBe(
      'PipelineStack/Pipeline: healthChecks[0] url must be an https:// URL: a check over plain http:// can be answered or altered by anyone on '
      + 'the path, and it decides whether a region (or, under blue-green, its traffic) moves on, but got "http://api.{region}.example.com/health"');
  });

  test('uses plain http:// with a token in the query: the token is redacted from the message', () => {
    const text = message(() => build(() => [HealthCheck.http('https://a.example.com/ok'), HealthCheck.http(`http://b.example.com/health?region={region}&token=${PASSWORD}`)]));
    expect(text).toContain('PipelineStack/Pipeline: healthChecks[1] url must be an https:// URL');
    expect(text).toContain('but got "http://b.example.com/health?region={region}&token=***"');
    expect(text).not.toContain(PASSWORD);
  });

  test.each([
    ['user:password', `https://deploy:${PASSWORD}@api.example.com/health`, 'https://***@api.example.com/health'],
    ['a user only', 'https://deploy@api.example.com/health', 'https://***@api.example.com/health'],
    ['a password with an @', `https://deploy:${PASSWORD}@x@api.{region}.example.com:8443/health`, 'https://***@api.{region}.example.com:8443/health'],
    ['user info over http://', `http://deploy:${PASSWORD}@api.example.com/`, 'http://***@api.example.com/'],
  ])('has user info (%s): refused, with the user info redacted', (_what, url, shown) => {
    const text = message(() => build(() => [HealthCheck.http(url)]));
    expect(text).toBe('PipelineStack/Pipeline: healthChecks[0] url must not contain user info (user:password@): it would be stored in plain text '
      + 'in the health-check function\'s environment and the template. Keep the credential in a Secrets Manager secret and send it with '
      + `HealthCheckHeader.fromSecret(), but got ${JSON.stringify(shown)}`);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('deploy');
  });
});

describe('the URL checks every health check makes when it is created', () => {
  test.each([
    ['not http(s), with user info', `ftp://deploy:${PASSWORD}@files.example.com/health`, 'healthChecks url must be an http:// or https:// URL, but got "ftp://***@files.example.com/health"'],
    ['in capitals, with a token', `HTTPS://api.example.com/health?token=${PASSWORD}`, 'healthChecks url must be an http:// or https:// URL, but got "HTTPS://api.example.com/health?token=***"'],
    ['an unknown placeholder, with a password', `https://u:${PASSWORD}@{env}.example.com/`, 'healthChecks url may only contain the placeholders {region} and {slot}, but got "https://***@{env}.example.com/"'],
    ['no scheme, with user info', `deploy:${PASSWORD}@api.example.com/health`, 'healthChecks url must be an http:// or https:// URL, but got "(a URL, not shown: it may hold a credential)"'],
  ])('show the URL redacted (%s)', (_what, url, expected) => {
    expect(message(() => HealthCheck.http(url))).toBe(expected);
  });
});

describe('warns if a health-check URL', () => {
  test.each([
    ['token', `https://api.example.com/health?token=${PASSWORD}`, 'token'],
    ['access_token', `https://api.example.com/health?access_token=${PASSWORD}&verbose=1`, 'access_token'],
    ['an AWS presigned URL', `https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F&X-Amz-Security-Token=${PASSWORD}&X-Amz-Signature=${PASSWORD}`,
      'X-Amz-Credential, X-Amz-Security-Token, X-Amz-Signature'],
    ['api-key and sig', `https://api.example.com/health?api-key=${PASSWORD}&sig=${PASSWORD}`, 'api-key, sig'],
    ['password, secret and apiKey', `https://api.example.com/h?password=${PASSWORD}&client_secret=${PASSWORD}&apiKey=${PASSWORD}`, 'password, client_secret, apiKey'],
    ['key', `https://maps.example.com/health?key=${PASSWORD}`, 'key'],
  ])('has query parameters named like credentials (%s): a warning names them, never their values', (_what, url, names) => {
    const { pipeline, stack } = build(() => [HealthCheck.http(url)]);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('query parameters named like credentials'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe(`/${pipeline.node.path}`);
    expect(warnings[0].entry.data).toBe(`healthChecks[0] url has query parameters named like credentials (${names}): their values are stored in `
      + 'plain text in the health-check function\'s environment and the template. Send the credential in a header with HealthCheckHeader.fromSecret() '
      + 'instead. [ack: cdk-cross-region-config:healthCheckUrlCredential]');
    expect(JSON.stringify(warnings)).not.toContain(PASSWORD);
    // The settings document shows the URL redacted.
    expect(JSON.stringify(pipeline._settingsDocument)).not.toContain(PASSWORD);
  });

  test.each([
    'https://api.example.com/health',
    'https://api.example.com/health?verbose=1&region={region}',
    'https://api.example.com/health?monkey=1&keyspace=orders&tokenizer=simple&author=x',
    'https://api.example.com/health#token',
  ])('has no credential-like query parameter: no warning (%s)', (url) => {
    const { stack } = build(() => [HealthCheck.http(url)]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('credentials'))).toEqual([]);
  });
});

describe('a header from a Secrets Manager secret', () => {
  test('travels as the secret\'s ARN, field and prefix; the value is nowhere in the template', () => {
    const { stack } = build((s) => {
      const secret = new secretsmanager.Secret(s, 'HealthToken');
      return [HealthCheck.http('https://api.{region}.example.com/health', {
        headers: [HealthCheckHeader.fromSecret('Authorization', secret, { jsonField: 'token', prefix: 'Bearer ' })],
      })];
    });
    const template = Template.fromStack(stack);
    const raw = healthEnv(template)[PipelineEnv.HEALTH_CHECKS];
    // The ARN is a deploy-time reference, so the JSON is a join around it.
    const rendered = JSON.stringify(stack.resolve(raw));
    expect(rendered).toContain('\\"headers\\":[{\\"name\\":\\"Authorization\\",\\"secretArn\\":\\"');
    expect(rendered).toContain('{"Ref":"HealthToken');
    expect(rendered).toContain('\\"jsonField\\":\\"token\\",\\"prefix\\":\\"Bearer \\"}]');
  });

  test('the health-check function may GetSecretValue on that secret only, and nothing else of Secrets Manager or KMS without a key', () => {
    const { stack } = build((s) => {
      const secret = new secretsmanager.Secret(s, 'HealthToken');
      return [HealthCheck.http('https://api.{region}.example.com/health', { headers: [HealthCheckHeader.fromSecret('X-Api-Key', secret)] })];
    });
    const template = Template.fromStack(stack);
    const secretLogicalId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];
    expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toEqual([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { Ref: secretLogicalId } }]);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toMatch(/secretsmanager:(?!GetSecretValue)/);
    expect(statementsAllowing(template, 'kms:Decrypt').filter((s) => JSON.stringify(s).includes('secretsmanager.'))).toEqual([]);
    // Only the health-check role has it.
    const owners = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes('secretsmanager:GetSecretValue'))
      .map(([, p]: [string, any]) => JSON.stringify(p.Properties.Roles));
    expect(owners).toHaveLength(1);
    expect(owners[0]).toMatch(/HealthCheck/);
  });

  test('a secret with a customer managed key adds kms:Decrypt on that key, only through Secrets Manager in its region', () => {
    const { stack } = build((s) => {
      const key = new kms.Key(s, 'TokenKey', { enableKeyRotation: true });
      const secret = new secretsmanager.Secret(s, 'HealthToken', { encryptionKey: key });
      return [HealthCheck.http('https://api.{region}.example.com/health', { headers: [HealthCheckHeader.fromSecret('Authorization', secret)] })];
    });
    const template = Template.fromStack(stack);
    const keyLogicalId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    expect(statementsAllowing(template, 'kms:Decrypt').filter((s) => JSON.stringify(s).includes('kms:ViaService'))).toEqual([{
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', [`secretsmanager.${PRIMARY}.`, { Ref: 'AWS::URLSuffix' }]] } } },
    }]);
  });

  test('an imported secret by name is granted with the ARN suffix Secrets Manager adds (-??????)', () => {
    const { stack } = build((s) => {
      const secret = secretsmanager.Secret.fromSecretNameV2(s, 'Imported', 'health/token');
      return [HealthCheck.http('https://api.{region}.example.com/health', { headers: [HealthCheckHeader.fromSecret('Authorization', secret)] })];
    });
    const resources = statementsAllowing(Template.fromStack(stack), 'secretsmanager:GetSecretValue').map((s) => JSON.stringify(s.Resource));
    expect(resources).toHaveLength(1);
    expect(resources[0]).toContain(`:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:health/token-??????`);
  });

  test('cdk-nag reports nothing unacknowledged for a check with a secret header', () => {
    const { stack } = build((s) => [HealthCheck.http('https://api.{region}.example.com/health', {
      headers: [HealthCheckHeader.fromSecret('Authorization', new secretsmanager.Secret(s, 'HealthToken'))],
    })]);
    const report = new AwsSolutionsChecks().validateScope(stack.node.root as any);
    const ours = report.violations.flatMap((v) => v.violatingResources
      .filter((r) => (r.constructPath ?? '').startsWith('PipelineStack/Pipeline/') && !/^PipelineStack\/Pipeline\/[a-z]{2}-[a-z]+-\d\//.test(r.constructPath ?? ''))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(ours).toEqual([]);
  });

  const secretIn = (s: Stack) => new secretsmanager.Secret(s, 'HealthToken');
  test.each<[string, (s: Stack) => HealthCheck, string]>([
    ['the header name is not an HTTP token', (s) => HealthCheck.http('https://a.example.com/', { headers: [HealthCheckHeader.fromSecret('X Api Key', secretIn(s))] }),
      'healthChecks headers name must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-), but got "X Api Key"'],
    ['the header is one the check sets itself', (s) => HealthCheck.http('https://a.example.com/', { headers: [HealthCheckHeader.fromSecret('Host', secretIn(s))] }),
      'healthChecks headers name must not be one the health check sets itself (host, content-length, transfer-encoding, connection, upgrade, te, trailer, '
      + 'keep-alive, expect, user-agent), but got "Host"'],
    ['two headers have the same name', (s) => {
      const secret = secretIn(s);
      return HealthCheck.http('https://a.example.com/', { headers: [HealthCheckHeader.fromSecret('X-Token', secret), HealthCheckHeader.fromSecret('x-token', secret)] });
    }, 'healthChecks headers names must not contain duplicates, but got ["x-token","x-token"]'],
    ['the prefix has a line break', (s) => HealthCheck.http('https://a.example.com/', {
      headers: [HealthCheckHeader.fromSecret('Authorization', secretIn(s), { prefix: 'Bearer\r\nX-Injected: 1' } as HealthCheckHeaderFromSecretOptions)],
    }), 'healthChecks headers prefix must be 1 to 256 printable ASCII characters (no line breaks), but got "Bearer\\r\\nX-Injected: 1"'],
    ['the JSON field is empty', (s) => HealthCheck.http('https://a.example.com/', { headers: [HealthCheckHeader.fromSecret('Authorization', secretIn(s), { jsonField: '' })] }),
      'healthChecks headers jsonField must be 1 to 256 characters long (0 received), but got ""'],
  ])('fails if %s', (_what, make, expected) => {
    const stack = newPipelineStack();
    expect(() => make(stack)).toThrow(expected);
  });
});
