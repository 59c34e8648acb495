import { App, CfnParameter, CfnResource, Fn, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CHUNK_DATA_BYTES, ENVIRONMENT_BUDGET_BYTES, HandlerSettings, LARGE_TOKEN_BYTES, STANDARD_PARAMETER_BYTES, TYPICAL_TOKEN_BYTES,
} from '../../src/private/handler-settings';
import { SETTINGS_CHUNK_MAGIC, SETTINGS_DOCUMENT_ENV, SETTINGS_PARAMETER_ROOT } from '../../src/private/settings-contract';
import { deployedSettings, StandIn } from '../harness/settings-document';

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its printed number. */
function prng(seed: number): () => number {
  /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /* eslint-enable no-bitwise */
}

function newStack(app = new App(), id = 'TestStack'): Stack {
  return new Stack(app, id, { env: { region: 'us-east-1' } });
}

/** A function whose environment is `settings.environment`, as the constructs wire it. */
function withFunction(stack: Stack, id: string, settings: HandlerSettings): lambda.Function {
  const fn = new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
    environment: settings.environment,
  });
  settings.grantRead(fn);
  return fn;
}

function functionId(template: Template, pathPart: string): string {
  const [id] = Object.keys(template.findResources('AWS::Lambda::Function')).filter((k) => k.startsWith(pathPart));
  return id;
}

/** A long literal list, far past the environment budget. */
const MANY_NAMES = Array.from({ length: 400 }, (_, i) => `prod/service-${i}/database-credentials`);

describe('HandlerSettings', () => {
  test('keeps every setting in the environment while the environment fits the budget', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Secret');
    const settings = new HandlerSettings(stack, 'Settings', {
      description: 'a test function',
      environment: { PRIMARY_REGION: 'us-east-1' },
      growable: { NAMES: ['a', 'b'], TARGETS: [{ arn: secret.secretArn }], ABSENT: undefined },
    });
    withFunction(stack, 'Fn', settings);
    const template = Template.fromStack(stack);

    expect(settings.usesDocument).toBe(false);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    const env = deployedSettings(template.toJSON(), functionId(template, 'Fn'), () => 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x').environment;
    expect(env).toEqual({
      PRIMARY_REGION: 'us-east-1',
      NAMES: '["a","b"]',
      TARGETS: '[{"arn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}]',
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('ssm:GetParametersByPath');
  });

  test('moves the growable settings to a document of chunks past the budget, and keeps the rest', () => {
    const stack = newStack();
    const settings = new HandlerSettings(stack, 'Settings', {
      description: 'a test function',
      environment: { PRIMARY_REGION: 'us-east-1', FLAG: 'true' },
      growable: { NAMES: MANY_NAMES, SMALL: { rules: [] } },
    });
    withFunction(stack, 'Fn', settings);
    const template = Template.fromStack(stack);
    const deployed = deployedSettings(template.toJSON(), functionId(template, 'Fn'));

    expect(settings.usesDocument).toBe(true);
    expect(Object.keys(deployed.environment).sort()).toEqual(['FLAG', 'PRIMARY_REGION', SETTINGS_DOCUMENT_ENV]);
    expect(deployed.reference).toEqual({
      path: expect.stringMatching(new RegExp(`^${SETTINGS_PARAMETER_ROOT}/TestStack/TestStackSettings[0-9A-F]{8}/[0-9a-f]{20}$`)),
      version: expect.stringMatching(/^[0-9a-f]{20}$/),
      chunks: deployed.parameters.length,
      variables: ['NAMES', 'SMALL'],
    });
    expect(deployed.reference!.path.endsWith(deployed.reference!.version)).toBe(true);
    const document = Buffer.byteLength(JSON.stringify({ NAMES: MANY_NAMES, SMALL: { rules: [] } }));
    expect(deployed.parameters.length).toBe(Math.ceil(document / CHUNK_DATA_BYTES));
    deployed.parameters.forEach((p, i) => {
      expect(p.name).toBe(`${deployed.reference!.path}/${i}`);
      expect(p.value.split('\n')[0]).toBe(`${SETTINGS_CHUNK_MAGIC} ${deployed.reference!.version} ${i}/${deployed.parameters.length}`);
      expect(Buffer.byteLength(p.value)).toBeLessThanOrEqual(STANDARD_PARAMETER_BYTES);
    });
    const text = deployed.parameters.map((p) => p.value.slice(p.value.indexOf('\n') + 1)).join('');
    expect(JSON.parse(text)).toEqual({ NAMES: MANY_NAMES, SMALL: { rules: [] } });
    template.allResourcesProperties('AWS::SSM::Parameter', { Type: 'String', Tier: 'Standard' });
  });

  test('gives the function GetParametersByPath on exactly its own path, and writes the chunks before it, one at a time', () => {
    const stack = newStack();
    const settings = new HandlerSettings(stack, 'Settings', { description: 'a test function', environment: {}, growable: { NAMES: MANY_NAMES } });
    withFunction(stack, 'Fn', settings);
    const template = Template.fromStack(stack).toJSON();
    const fnId = Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::Lambda::Function')!;
    const chunkIds = settings.parameters.map((p) => stack.resolve((p.node.defaultChild as CfnResource).logicalId));
    const statements = Object.values(template.Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::IAM::Policy').flatMap((r) => r.Properties.PolicyDocument.Statement)
      .filter((s: any) => JSON.stringify(s.Action).includes('ssm:'));
    expect(statements).toEqual([{
      Action: 'ssm:GetParametersByPath',
      Effect: 'Allow',
      Resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:', { Ref: 'AWS::AccountId' }, `:parameter${stack.resolve(settings.documentPath)}`]],
      },
    }]);
    expect(template.Resources[fnId].DependsOn).toEqual(expect.arrayContaining(chunkIds));
    chunkIds.slice(1).forEach((id, i) => expect(template.Resources[id].DependsOn).toEqual([chunkIds[i]]));
    expect(template.Resources[chunkIds[0]].DependsOn).toBeUndefined();
  });

  test('has no cdk-nag finding (the grant names one path, no wildcard)', () => {
    const app = new App();
    const stack = newStack(app);
    const settings = new HandlerSettings(stack, 'Settings', { description: 'a test function', environment: {}, growable: { NAMES: MANY_NAMES } });
    withFunction(stack, 'Fn', settings);
    const findings = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    // The bare test function's own defaults (managed policy, runtime) are not ours.
    expect(findings.filter((id) => id.includes('ssm') || id.includes('Settings') || id.startsWith('AwsSolutions-SSM'))).toEqual([]);
    expect(findings.filter((id) => id.startsWith('AwsSolutions-IAM5'))).toEqual([]);
  });

  test('derives the deployment version from the rendered document: stable across synths, new with any change', () => {
    const versionOf = (names: string[], stackId = 'TestStack') => {
      const stack = newStack(new App(), stackId);
      const settings = new HandlerSettings(stack, 'Settings', { description: 'a test function', environment: {}, growable: { NAMES: names } });
      withFunction(stack, 'Fn', settings);
      const template = Template.fromStack(stack);
      return deployedSettings(template.toJSON(), functionId(template, 'Fn')).reference!;
    };
    const first = versionOf(MANY_NAMES);
    expect(versionOf(MANY_NAMES)).toEqual(first);
    const changed = versionOf([...MANY_NAMES.slice(0, -1), 'prod/other']);
    expect(changed.version).not.toBe(first.version);
    expect(changed.path).not.toBe(first.path);
    expect(versionOf(MANY_NAMES, 'OtherStack').path).not.toBe(first.path);
  });

  test('gives two functions of one stack with the same settings separate paths', () => {
    const stack = newStack();
    const a = new HandlerSettings(stack, 'A', { description: 'a', environment: {}, growable: { NAMES: MANY_NAMES } });
    const b = new HandlerSettings(stack, 'B', { description: 'b', environment: {}, growable: { NAMES: MANY_NAMES } });
    withFunction(stack, 'FnA', a);
    withFunction(stack, 'FnB', b);
    const template = Template.fromStack(stack);
    const pathA = deployedSettings(template.toJSON(), functionId(template, 'FnA')).reference!.path;
    const pathB = deployedSettings(template.toJSON(), functionId(template, 'FnB')).reference!.path;
    expect(pathA).not.toBe(pathB);
  });

  test('keeps a deploy-time value of another stack a reference (exported there, imported here)', () => {
    const app = new App();
    const producer = newStack(app, 'Clusters');
    const cluster = new CfnResource(producer, 'Cluster', { type: 'AWS::EKS::Cluster' });
    const consumer = newStack(app, 'Syncer');
    const settings = new HandlerSettings(consumer, 'Settings', {
      description: 'a test function',
      environment: {},
      growable: { NAMES: MANY_NAMES, CA: Token.asString(cluster.getAtt('CertificateAuthorityData')) },
    });
    withFunction(consumer, 'Fn', settings);
    const assembly = app.synth();
    const consumerTemplate = assembly.getStackByName('Syncer').template;
    const producerTemplate = assembly.getStackByName('Clusters').template;
    expect(JSON.stringify(Object.values(consumerTemplate.Resources).filter((r: any) => r.Type === 'AWS::SSM::Parameter'))).toContain('Fn::ImportValue');
    expect(Object.keys(producerTemplate.Outputs ?? {}).some((k) => k.includes('CertificateAuthorityData'))).toBe(true);
  });

  test('fits every chunk in a Standard parameter and reassembles the document exactly, for random documents (seeded)', () => {
    const seeds = Array.from({ length: 40 }, (_, i) => 1000 + i);
    const placements = new Set<string>();
    for (const seed of seeds) {
      try {
        placements.add(checkRandomDocument(seed));
      } catch (e) {
        throw new Error(`document ${seed} (replay with checkRandomDocument(${seed})): ${(e as Error).message}`);
      }
    }
    // Both placements were exercised.
    expect([...placements].sort()).toEqual(['document', 'environment']);
  });
});

/**
 * GIVEN a document of random literals (quotes, backslashes, non-ASCII and astral characters) and
 * deploy-time values of every kind, WHEN each deploy-time value deploys as long as its estimate
 * allows, THEN every chunk is at most 4096 bytes and the chunks reassemble to the document.
 */
function checkRandomDocument(seed: number): 'environment' | 'document' {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const stack = newStack();
  const alphabet = ['a', 'Z', '0', '"', '\\', '/', ' ', 'é', '€', '\u{1F600}', '\n', '{', '$'];
  const literal = () => Array.from({ length: int(120) }, () => alphabet[int(alphabet.length)]).join('');

  // Deploy-time values and what each deploys as: as long as the estimate for its kind.
  const standIns = new Map<string, string>();
  const deployTime = (i: number): string => {
    const kind = int(4);
    let token: string;
    let length: number;
    if (kind === 0) {
      token = new secretsmanager.Secret(stack, `Secret${i}`).secretArn;
      length = TYPICAL_TOKEN_BYTES;
    } else if (kind === 1) {
      token = Token.asString(new CfnResource(stack, `Cluster${i}`, { type: 'AWS::EKS::Cluster' }).getAtt('CertificateAuthorityData'));
      length = LARGE_TOKEN_BYTES;
    } else if (kind === 2) {
      token = Fn.importValue(`ca-${i}`);
      length = LARGE_TOKEN_BYTES;
    } else {
      token = new CfnParameter(stack, `Parameter${i}`).valueAsString;
      length = LARGE_TOKEN_BYTES;
    }
    standIns.set(JSON.stringify(stack.resolve(token)), `${i}:`.padEnd(length, 'x'));
    return token;
  };
  const expected: unknown[] = [];
  const value: unknown[] = [];
  // Up to 100 items: a few stay in the environment, most move to a document.
  const items = 1 + int(100);
  for (let i = 0; i < items; i++) {
    if (random() < 0.3) {
      const prefix = literal();
      const token = deployTime(i);
      value.push({ name: literal(), endpoint: `${prefix}${token}/x`, n: int(1000), ok: random() < 0.5 });
      expected.push({ name: (value[value.length - 1] as any).name, endpoint: `${prefix}${standIns.get(JSON.stringify(stack.resolve(token)))}/x`, n: (value[value.length - 1] as any).n, ok: (value[value.length - 1] as any).ok });
    } else {
      const item = { name: literal(), tags: [literal(), null] };
      value.push(item);
      expected.push(item);
    }
  }
  const settings = new HandlerSettings(stack, 'Settings', { description: 'a test function', environment: { A: 'b' }, growable: { ITEMS: value } });
  withFunction(stack, 'Fn', settings);
  const template = Template.fromStack(stack);
  const standIn: StandIn = (intrinsic) => {
    const found = standIns.get(JSON.stringify(intrinsic));
    if (found === undefined) throw new Error(`unexpected deploy-time value ${JSON.stringify(intrinsic)}`);
    return found;
  };
  const deployed = deployedSettings(template.toJSON(), functionId(template, 'Fn'), standIn);
  if (!settings.usesDocument) {
    expect(JSON.parse(deployed.environment.ITEMS)).toEqual(expected);
    const size = Object.entries(deployed.environment).reduce((sum, [k, v]) => sum + k.length + Buffer.byteLength(v), 0);
    expect(size).toBeLessThanOrEqual(ENVIRONMENT_BUDGET_BYTES);
    return 'environment';
  }
  expect(deployed.parameters).toHaveLength(deployed.reference!.chunks);
  for (const p of deployed.parameters) expect(Buffer.byteLength(p.value)).toBeLessThanOrEqual(STANDARD_PARAMETER_BYTES);
  const text = deployed.parameters.map((p) => p.value.slice(p.value.indexOf('\n') + 1)).join('');
  expect(JSON.parse(text)).toEqual({ ITEMS: expected });
  return 'document';
}
