import {
  AddTagsToResourceCommand, DeleteParameterCommand, GetParameterCommand, GetParameterHistoryCommand, ListTagsForResourceCommand,
  ParameterHistory, PutParameterCommand, PutParameterCommandInput, SSMClient,
} from '@aws-sdk/client-ssm';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { ParameterReplicatorEnv } from '../../src/parameter-replicator/contract';

/**
 * Parameter Store as the tests see it: clients straight to moto (never through the fault proxy),
 * and every value a test writes remembered, so the log scan can look for each of them.
 */
export class ParametersWorld {
  /** Every value written through `newValue` or `put`: none may appear in any log line. */
  readonly values = new Set<string>();
  private readonly clients = new Map<string, SSMClient>();
  private counter = 0;

  constructor(private readonly endpoint: string) {}

  client(region: string, roleArn?: string): SSMClient {
    const key = `${region}|${roleArn ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new SSMClient({
        region,
        endpoint: this.endpoint,
        credentials: roleArn
          ? fromTemporaryCredentials({
            params: { RoleArn: roleArn, RoleSessionName: 'verify' },
            clientConfig: { region, endpoint: this.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
          })
          : { accessKeyId: 'testing', secretAccessKey: 'testing' },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** A distinctive value (never a substring of another): what the log scan looks for. */
  newValue(hint = 'v', length = 0): string {
    const base = `pv-${hint}-${(++this.counter).toString(36)}-${Math.random().toString(36).slice(2, 10)}-`;
    const value = length > 0 ? (base + 'x'.repeat(Math.max(0, length - base.length))).slice(0, length) : base + 'end';
    this.values.add(value);
    return value;
  }

  async put(region: string, input: Partial<PutParameterCommandInput> & { Name: string; Value: string }, roleArn?: string): Promise<number> {
    this.values.add(input.Value);
    const answer = await this.client(region, roleArn).send(new PutParameterCommand({ Type: 'String', ...input }));
    return answer.Version!;
  }

  async get(region: string, name: string, roleArn?: string): Promise<ParameterState | undefined> {
    try {
      const p = (await this.client(region, roleArn).send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!;
      return { Value: p.Value!, Type: p.Type!, DataType: p.DataType, Version: p.Version! };
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  async history(region: string, name: string): Promise<ParameterHistory[]> {
    return (await this.client(region).send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true, MaxResults: 50 }))).Parameters ?? [];
  }

  async current(region: string, name: string): Promise<ParameterHistory | undefined> {
    return (await this.history(region, name)).at(-1);
  }

  async tags(region: string, name: string, roleArn?: string): Promise<Record<string, string>> {
    const answer = await this.client(region, roleArn).send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }));
    return Object.fromEntries((answer.TagList ?? []).map((t) => [t.Key!, t.Value!]));
  }

  async tag(region: string, name: string, tags: Record<string, string>): Promise<void> {
    await this.client(region).send(new AddTagsToResourceCommand({
      ResourceType: 'Parameter', ResourceId: name, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }));
  }

  async delete(region: string, name: string): Promise<void> {
    await this.client(region).send(new DeleteParameterCommand({ Name: name }));
  }
}

/** What GetParameter answers of a parameter. */
export interface ParameterState {
  readonly Value: string;
  readonly Type: string;
  readonly DataType?: string;
  readonly Version: number;
}

/** A `Parameter Store Change` event as EventBridge delivers it. */
export function parameterEvent(name: string, operation = 'Update', type = 'String'): Record<string, unknown> {
  return {
    'version': '0',
    'id': `evt-${Math.random().toString(36).slice(2)}`,
    'detail-type': 'Parameter Store Change',
    'source': 'aws.ssm',
    'account': '123456789012',
    'time': new Date().toISOString(),
    'region': 'us-east-1',
    'resources': [`arn:aws:ssm:us-east-1:123456789012:parameter${name.startsWith('/') ? '' : '/'}${name}`],
    'detail': { operation, name, type, description: '' },
  };
}

/** The handler variables a child process needs (the contract's, nothing else of the test's environment). */
export function contractEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = Object.values(ParameterReplicatorEnv) as string[];
  return Object.fromEntries(Object.entries(env).filter(([k, v]) => names.includes(k) && v !== undefined)) as Record<string, string>;
}

/** Every line that contains one of `values`: the test fails with the line count, never the values. */
export function linesWithValues(lines: readonly string[], values: ReadonlySet<string>): number {
  let found = 0;
  for (const line of lines) {
    for (const value of values) {
      if (line.includes(value)) {
        found++;
        break;
      }
    }
  }
  return found;
}
