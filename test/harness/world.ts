import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/**
 * A view of Secrets Manager in several regions of one emulator, for handler tests. It remembers
 * every secret value it creates so a test can scan logs and results for leaks, and it compares
 * values without ever printing them (a failing `expect(a).toEqual(b)` would show both).
 */
export class SecretsWorld {
  private readonly clients = new Map<string, SecretsManagerClient>();
  /** Every secret value (as text) handed out by this world: none may appear in logs. */
  readonly issuedValues: string[] = [];

  constructor(private readonly endpoint: string) {}

  client(region: string): SecretsManagerClient {
    let c = this.clients.get(region);
    if (!c) {
      c = new SecretsManagerClient({
        region,
        endpoint: this.endpoint,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        // moto's threaded server occasionally answers a concurrent request with a 500 page.
        maxAttempts: 3,
      });
      this.clients.set(region, c);
    }
    return c;
  }

  /** A fresh, recognisable secret string, registered for the leak scan. */
  newValue(label = 'value'): string {
    const v = `${label}-${randomUUID()}-Zq9`;
    this.issuedValues.push(v);
    return v;
  }

  /** Random bytes, registered (base64 and hex) for the leak scan. */
  newBinary(size: number): Uint8Array {
    const b = randomBytes(size);
    this.issuedValues.push(b.toString('base64').slice(0, 40), b.toString('hex').slice(0, 40));
    return new Uint8Array(b);
  }

  async create(
    region: string, name: string, value: string | Uint8Array, extra: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<string> {
    const out = await this.client(region).send(new CreateSecretCommand({
      Name: name,
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: value }),
      Description: extra.description,
      Tags: Object.entries(extra.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }));
    return out.ARN!;
  }

  /** The current value, or undefined when the secret does not exist. */
  async value(region: string, name: string): Promise<string | Uint8Array | undefined> {
    try {
      // Name the stage: moto does not move its default version on UpdateSecretVersionStage.
      const got = await this.client(region).send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
      return got.SecretString ?? got.SecretBinary;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }

  async describe(region: string, name: string) {
    try {
      return await this.client(region).send(new DescribeSecretCommand({ SecretId: name }));
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }

  async tags(region: string, name: string): Promise<Record<string, string>> {
    const d = await this.describe(region, name);
    return Object.fromEntries((d?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  }

  async versionCount(region: string, name: string): Promise<number> {
    const out = await this.client(region).send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    return out.Versions?.length ?? 0;
  }

  /** Asserts that two regions hold the same value, without printing either. */
  async expectSameValue(name: string, primaryRegion: string, ...replicaRegions: string[]): Promise<void> {
    const expected = await this.value(primaryRegion, name);
    for (const region of replicaRegions) {
      const actual = await this.value(region, name);
      if (!sameValue(expected, actual)) {
        throw new Error(`value of ${name} in ${region} differs from ${primaryRegion} (values not shown)`);
      }
    }
  }

  /** Asserts that a region holds exactly `expected`, without printing either. */
  async expectValue(region: string, name: string, expected: string | Uint8Array): Promise<void> {
    if (!sameValue(expected, await this.value(region, name))) {
      throw new Error(`value of ${name} in ${region} is not the expected one (values not shown)`);
    }
  }
}

function sameValue(a: string | Uint8Array | undefined, b: string | Uint8Array | undefined): boolean {
  if (typeof a === 'string' || typeof b === 'string' || a === undefined || b === undefined) return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Captures everything written to stdout and stderr (where Powertools writes logs and EMF) and
 * keeps it out of the test output; `CAPTURE_ECHO=1` echoes it for debugging.
 */
export class OutputCapture {
  readonly lines: string[] = [];
  private restore: Array<() => void> = [];

  start(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      (stream as any).write = (chunk: any, ...rest: any[]) => {
        this.lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
        return process.env.CAPTURE_ECHO ? original(chunk, ...rest) : true;
      };
      this.restore.push(() => { (stream as any).write = original; });
    }
  }

  stop(): void {
    this.restore.forEach((r) => r());
    this.restore = [];
  }

  /** EMF documents emitted since `from` (an index into `lines`). */
  emf(from = 0): Array<Record<string, any>> {
    return this.lines.slice(from).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
  }

  /** Sum of metric `name` over EMF documents since `from` whose dimensions match `dims` exactly. */
  metricSum(name: string, dims: Record<string, string>, from = 0): number {
    let sum = 0;
    for (const doc of this.emf(from)) {
      const declared = doc._aws.CloudWatchMetrics[0];
      const dimNames: string[] = declared.Dimensions[0];
      const wanted = Object.keys(dims);
      if (dimNames.length !== wanted.length || !wanted.every((d) => dimNames.includes(d) && doc[d] === dims[d])) continue;
      if (!declared.Metrics.some((m: any) => m.Name === name)) continue;
      const v = doc[name];
      sum += Array.isArray(v) ? v.reduce((a: number, b: number) => a + b, 0) : v;
    }
    return sum;
  }

  /** Structured log records (JSON lines with a `level`) since `from`. */
  logs(from = 0): Array<Record<string, any>> {
    return this.lines.slice(from).filter((l) => l.startsWith('{') && l.includes('"level"')).map((l) => JSON.parse(l));
  }
}

/** A CloudTrail "AWS API Call" event as EventBridge delivers it for Secrets Manager. */
export function cloudTrailEvent(eventName: string, secretId: string, options: { time?: Date; field?: 'secretId' | 'name' | 'arn' | 'aRN'; errorCode?: string } = {}) {
  const time = (options.time ?? new Date()).toISOString();
  const field = options.field ?? (eventName === 'CreateSecret' ? 'arn' : 'secretId');
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    'source': 'aws.secretsmanager',
    'account': '123456789012',
    time,
    'region': 'us-east-1',
    'resources': [],
    'detail': {
      eventVersion: '1.08',
      eventTime: time,
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      ...(options.errorCode ? { errorCode: options.errorCode } : {}),
      requestParameters: field === 'secretId' ? { secretId } : field === 'name' ? { name: secretId } : {},
      responseElements: field === 'arn' ? { arn: secretId } : field === 'aRN' ? { aRN: secretId } : null,
    },
  };
}

/** A Lambda handler as the tests call it. */
export type TestHandler = (event: unknown) => Promise<any>;

/**
 * Wraps a handler factory (`createHandler(env)` of a handler module) so that every result and
 * error the handler returns joins `results`, for the leak scan. Require the handler module only
 * after the environment is set: Powertools reads POWERTOOLS_* when the module loads.
 */
export function recordingHandlers(factory: (env: NodeJS.ProcessEnv) => TestHandler, results: string[]): (env: NodeJS.ProcessEnv) => TestHandler {
  return (env) => {
    const handler = factory(env);
    return async (event) => {
      try {
        const result = await handler(event);
        results.push(JSON.stringify(result));
        return result;
      } catch (e) {
        results.push(String(e), JSON.stringify(e));
        throw e;
      }
    };
  };
}
